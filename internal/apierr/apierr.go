// Package apierr carries AWS error codes from services to the wire edge. A
// service returns *Error with the AWS code and message; the edge looks the code
// up in the service model for the HTTP status. Anything else that reaches the
// edge is an internal failure.
package apierr

import "fmt"

// Error is an AWS API error: a code from the service model and a message.
type Error struct {
	Code    string
	Message string
	// Status overrides the model's HTTP status when non-zero (for codes the
	// model does not declare, such as AccessDenied on IAM).
	Status int
	// Fields are extra members of the error shape (Organizations' Reason...).
	Fields map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New returns an error with the code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common codes, shared across services.
const (
	NoSuchEntity            = "NoSuchEntity"
	EntityAlreadyExists     = "EntityAlreadyExists"
	DeleteConflict          = "DeleteConflict"
	LimitExceeded           = "LimitExceeded"
	InvalidInput            = "InvalidInput"
	MalformedPolicyDocument = "MalformedPolicyDocument"
	UnmodifiableEntity      = "UnmodifiableEntity"
	ValidationError         = "ValidationError"
	AccessDenied            = "AccessDenied"
	ConcurrentModification  = "ConcurrentModification"
	ServiceFailure          = "ServiceFailure"
)

// NotFound is IAM's NoSuchEntity with AWS's wording,
// e.g. "The user with name bob cannot be found.".
func NotFound(kind, name string) *Error {
	return New(NoSuchEntity, "The %s with name %s cannot be found.", kind, name)
}

// Exists is IAM's EntityAlreadyExists, e.g. "User with name bob already exists.".
func Exists(kind, name string) *Error {
	return New(EntityAlreadyExists, "%s with name %s already exists.", kind, name)
}

// Invalid is IAM's InvalidInput.
func Invalid(format string, args ...any) *Error { return New(InvalidInput, format, args...) }

// Limit is IAM's LimitExceeded.
func Limit(format string, args ...any) *Error { return New(LimitExceeded, format, args...) }
