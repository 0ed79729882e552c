//go:build tools

// Package tools pins modules used only by tests and code generation so that
// `go mod tidy` keeps them.
package tools

import (
	_ "github.com/pquerna/otp/totp"
)
