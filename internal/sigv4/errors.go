package sigv4

import (
	"fmt"
	"net/http"
)

// Error codes returned by this package. They are AWS's own codes, so the edge
// can put them on the wire unchanged.
// https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
const (
	CodeIncompleteSignature        = "IncompleteSignature"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeAccessDenied               = "AccessDenied"
	CodeMalformedQueryString       = "MalformedQueryString"
	CodeContentSHA256Mismatch      = "XAmzContentSHA256Mismatch"
)

// Error is an authentication failure as AWS reports it: a code, a message and
// the HTTP status that goes with them.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// msgSignatureMismatch is the text AWS answers with when the recomputed
// signature differs from the one sent.
const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func incomplete(format string, args ...any) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func mismatch(format string, args ...any) *Error {
	return &Error{Code: CodeSignatureDoesNotMatch, Message: fmt.Sprintf(format, args...), Status: http.StatusForbidden}
}

// ErrSignatureDoesNotMatch is the answer to a well-formed request whose
// signature is wrong (bad secret, tampered request, wrong canonicalisation).
func ErrSignatureDoesNotMatch() *Error {
	return &Error{Code: CodeSignatureDoesNotMatch, Message: msgSignatureMismatch, Status: http.StatusForbidden}
}

// ErrMissingAuthenticationToken is the answer to a request that carries no
// SigV4 authentication at all.
func ErrMissingAuthenticationToken() *Error {
	return &Error{
		Code:    CodeMissingAuthenticationToken,
		Message: "Request is missing Authentication Token",
		Status:  http.StatusForbidden,
	}
}

// ErrInvalidClientTokenID is what the caller answers when the access key id
// from Auth is unknown (or its session token does not belong to it). Parse
// and Verify never return it: only the caller knows which keys exist.
func ErrInvalidClientTokenID() *Error {
	return &Error{
		Code:    CodeInvalidClientTokenID,
		Message: "The security token included in the request is invalid.",
		Status:  http.StatusForbidden,
	}
}

func malformedQuery(detail string) *Error {
	// AWS documents 404 for this code; odd, but it is the spec.
	return &Error{Code: CodeMalformedQueryString, Message: "The query string contains a syntax error: " + detail, Status: http.StatusNotFound}
}
