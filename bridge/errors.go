package bridge

import (
	"errors"
	"fmt"

	"github.com/b2bridge/b2bridge/erp"
)

// Code is a stable, machine-readable error code of the storefront API.
type Code string

// Error codes. /v1 only ever adds codes.
const (
	CodeInvalidRequest        Code = "invalid_request"
	CodeInvalidQuantity       Code = Code(erp.ReasonInvalidQuantity)
	CodeUnknownSKU            Code = Code(erp.ReasonUnknownSKU)
	CodeUnknownShipTo         Code = Code(erp.ReasonUnknownShipTo)
	CodeUnknownAccount        Code = Code(erp.ReasonUnknownAccount)
	CodePriceUnavailable      Code = Code(erp.ReasonNoPrice)
	CodePriceChanged          Code = Code(erp.ReasonPriceChanged)
	CodeInsufficientStock     Code = Code(erp.ReasonInsufficientStock)
	CodeCreditHold            Code = Code(erp.ReasonCreditHold)
	CodeCreditLimitExceeded   Code = Code(erp.ReasonCreditLimitExceeded)
	CodeIdempotencyKeyMissing Code = "idempotency_key_missing"
	CodeIdempotencyKeyReused  Code = "idempotency_key_reused"
	CodeUnauthorized          Code = "unauthorized"
	CodeForbidden             Code = "forbidden"
	CodeNotFound              Code = "not_found"
	CodeERPUnavailable        Code = "erp_unavailable"
	CodeOutcomeUnknown        Code = "outcome_unknown"
	CodeInternal              Code = "internal"
	// Admin API codes.
	CodeConflict             Code = "conflict"              // the resource exists already
	CodePreconditionFailed   Code = "precondition_failed"   // If-Match names another version
	CodePreconditionRequired Code = "precondition_required" // a change needs If-Match
	CodeInvalidMappings      Code = "invalid_mappings"      // an import with refused rows
	CodeRateLimited          Code = "rate_limited"          // over a storefront's rate limit
)

// Error is the bridge's application error: a code clients can rely on, a detail for
// people, and the offending fields or lines. The storefront maps codes to HTTP statuses.
type Error struct {
	Code   Code
	Detail string
	Fields []FieldError
	Lines  []LineProblem
	Report any   // a report the answer carries (an import's, for invalid_mappings)
	Err    error // the cause, logged, never shown to clients
}

// FieldError names one invalid request field (JSON path, or header or query name).
type FieldError struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: its *Error's, or internal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// erpError turns an ERP failure into the bridge's error for a read or a write.
func erpError(op string, err error) error {
	var refusal *erp.Refusal
	switch {
	case errors.As(err, &refusal):
		return &Error{Code: Code(refusal.Reason), Detail: op + " refused: " + string(refusal.Reason), Lines: refusal.Lines, Err: err}
	case errors.Is(err, erp.ErrOutcomeUnknown):
		return &Error{Code: CodeOutcomeUnknown, Detail: "the ERP may or may not have booked the order: retry with the same Idempotency-Key", Err: err}
	case errors.Is(err, erp.ErrNotFound):
		return &Error{Code: CodeNotFound, Detail: op + ": not found", Err: err}
	}
	return &Error{Code: CodeERPUnavailable, Detail: op + ": the ERP cannot be reached", Err: err}
}
