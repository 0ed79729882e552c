package awsproto

import (
	"fmt"
	"net/http"
)

// Error is an AWS API error, rendered by the protocol encoders.
type Error struct {
	Code    string
	Message string
	Status  int
	Sender  bool           // Sender (client) fault; false means Receiver (server) fault
	Fields  map[string]any // extra members of the error shape, e.g. Organizations' Reason
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// commonErrors are errors every AWS service can return that are not part of
// the service models. Status codes follow
// https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
// and what the services answer in practice (AccessDenied is 403 on IAM/STS).
var commonErrors = map[string]struct {
	status int
	sender bool
}{
	"AccessDenied":                        {403, true},
	"AccessDeniedException":               {400, true},
	"ExpiredToken":                        {400, true},
	"ExpiredTokenException":               {400, true},
	"IncompleteSignature":                 {400, true},
	"IncompleteSignatureException":        {400, true},
	"InternalFailure":                     {500, false},
	"InternalServerError":                 {500, false},
	"InvalidAction":                       {400, true},
	"InvalidClientTokenId":                {403, true},
	"InvalidParameterCombination":         {400, true},
	"InvalidParameterValue":               {400, true},
	"InvalidQueryParameter":               {400, true},
	"InvalidSignatureException":           {400, true},
	"MalformedInput":                      {400, true},
	"MalformedQueryString":                {404, true},
	"MissingAction":                       {400, true},
	"MissingAuthenticationToken":          {403, true},
	"MissingAuthenticationTokenException": {403, true},
	"MissingParameter":                    {400, true},
	"NotAuthorized":                       {400, true},
	"OptInRequired":                       {403, true},
	"RequestExpired":                      {400, true},
	"SerializationException":              {400, true},
	"ServiceUnavailable":                  {503, false},
	"SignatureDoesNotMatch":               {403, true},
	"Throttling":                          {400, true},
	"ThrottlingException":                 {400, true},
	"UnknownOperationException":           {400, true},
	"UnrecognizedClientException":         {400, true},
	"ValidationError":                     {400, true},
	"ValidationException":                 {400, true},
}

// NewError builds an error for the service, taking status and fault from the
// model's error shape with that wire code (or shape name), then from the
// common AWS errors; anything else is a 400 Sender error.
func (s *Service) NewError(code, message string) *Error {
	if sh := s.errorByCode[code]; sh != nil {
		return &Error{Code: sh.ErrorCode, Message: message, Status: sh.ErrorStatus, Sender: sh.SenderFault}
	}
	if c, ok := commonErrors[code]; ok {
		return &Error{Code: code, Message: message, Status: c.status, Sender: c.sender}
	}
	return &Error{Code: code, Message: message, Status: http.StatusBadRequest, Sender: true}
}

// Errorf is NewError with a formatted message.
func (s *Service) Errorf(code, format string, args ...any) *Error {
	return s.NewError(code, fmt.Sprintf(format, args...))
}

// ErrorShape returns the model shape for an error wire code or shape name.
func (s *Service) ErrorShape(code string) *Shape { return s.errorByCode[code] }

// validationCode is the code AWS uses for model constraint violations: query
// services (Coral "AWSQuery") say ValidationError, JSON services say
// ValidationException.
func (s *Service) validationCode() string {
	if s.Protocol == "query" {
		return "ValidationError"
	}
	return "ValidationException"
}

// malformed returns the protocol's error for input that cannot be parsed at
// all (as opposed to parsed-but-invalid): JSON services answer
// SerializationException; query services MalformedInput.
func (s *Service) malformed(format string, args ...any) *Error {
	code := "SerializationException"
	if s.Protocol == "query" {
		code = "MalformedInput"
	}
	return s.NewError(code, fmt.Sprintf(format, args...))
}

// UnsupportedOperation is what AWS answers for an action the service does not
// know: query services say InvalidAction ("Could not find operation X for
// version V"); JSON and rest-json services say UnknownOperationException.
func UnsupportedOperation(s *Service, name string) *Error {
	if s.Protocol == "query" {
		return s.NewError("InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", name, s.APIVersion))
	}
	if s.Protocol == "rest-json" {
		e := s.NewError("UnknownOperationException", "")
		e.Status = http.StatusNotFound
		return e
	}
	return s.NewError("UnknownOperationException", "")
}
