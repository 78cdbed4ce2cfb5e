package storefront

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/b2bridge/b2bridge/bridge"
)

// statuses maps every error code to its one HTTP status.
var statuses = map[bridge.Code]int{
	bridge.CodeInvalidRequest:        http.StatusBadRequest,
	bridge.CodeIdempotencyKeyMissing: http.StatusBadRequest,
	bridge.CodeUnauthorized:          http.StatusUnauthorized,
	bridge.CodeForbidden:             http.StatusForbidden,
	bridge.CodeNotFound:              http.StatusNotFound,
	bridge.CodePriceChanged:          http.StatusConflict,
	bridge.CodeInsufficientStock:     http.StatusConflict,
	bridge.CodeUnknownSKU:            http.StatusUnprocessableEntity,
	bridge.CodeInvalidQuantity:       http.StatusUnprocessableEntity,
	bridge.CodeUnknownShipTo:         http.StatusUnprocessableEntity,
	bridge.CodeUnknownAccount:        http.StatusUnprocessableEntity,
	bridge.CodePriceUnavailable:      http.StatusUnprocessableEntity,
	bridge.CodeCreditHold:            http.StatusUnprocessableEntity,
	bridge.CodeCreditLimitExceeded:   http.StatusUnprocessableEntity,
	bridge.CodeIdempotencyKeyReused:  http.StatusUnprocessableEntity,
	bridge.CodeERPUnavailable:        http.StatusServiceUnavailable,
	bridge.CodeOutcomeUnknown:        http.StatusServiceUnavailable,
	bridge.CodeInternal:              http.StatusInternalServerError,
	bridge.CodeConflict:              http.StatusConflict,
	bridge.CodePreconditionFailed:    http.StatusPreconditionFailed,
	bridge.CodePreconditionRequired:  http.StatusPreconditionRequired,
	bridge.CodeInvalidMappings:       http.StatusUnprocessableEntity,
	bridge.CodeRateLimited:           http.StatusTooManyRequests,
}

// Codes for failures Fiber reports before a handler runs.
const (
	codeRequestTooLarge  bridge.Code = "request_too_large"
	codeMethodNotAllowed bridge.Code = "method_not_allowed"
	codeRequestTimeout   bridge.Code = "request_timeout"
	codeURITooLong       bridge.Code = "uri_too_long"
	codeHeadersTooLarge  bridge.Code = "headers_too_large"
)

// retryAfterSeconds is the Retry-After sent with every 503.
const retryAfterSeconds = 2

// problem is an RFC 9457 problem details body.
type problem struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	Code      bridge.Code   `json:"code"`
	Errors    []fieldError  `json:"errors,omitempty"`
	Lines     []lineProblem `json:"lines,omitempty"`
	Report    any           `json:"report,omitempty"`
	RequestID string        `json:"request_id,omitempty"`
}

type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

type lineProblem struct {
	Line      int     `json:"line"`
	SKU       string  `json:"sku"`
	Code      string  `json:"code"`
	Detail    string  `json:"detail,omitempty"`
	Available *int    `json:"available,omitempty"`
	UnitPrice *string `json:"unit_price,omitempty"`
}

// errorHandler writes every error as problem+json: the one place codes become statuses.
// Internal errors are logged in full and shown as "internal error" with the request id.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := problem{RequestID: c.GetRespHeader(fiber.HeaderXRequestID)}
		if p.RequestID == "" { // a request that failed before any middleware ran
			p.RequestID = requestID(c)
		}
		var be *bridge.Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &be):
			p.Code, p.Detail, p.Report = be.Code, be.Detail, be.Report
			for _, f := range be.Fields {
				p.Errors = append(p.Errors, fieldError(f))
			}
			for _, l := range be.Lines {
				lp := lineProblem{Line: l.Line, SKU: l.SKU, Code: string(l.Reason), Detail: l.Detail, Available: l.Available}
				if l.UnitPrice != nil {
					s := l.UnitPrice.String()
					lp.UnitPrice = &s
				}
				p.Lines = append(p.Lines, lp)
			}
		case errors.As(err, &fe):
			p.Status, p.Detail = fe.Code, fe.Message
			switch fe.Code {
			case http.StatusNotFound:
				p.Code = bridge.CodeNotFound
			case http.StatusRequestEntityTooLarge:
				p.Code = codeRequestTooLarge
				if fe.Message == utils.StatusMessage(fe.Code) { // the server's own limit, not a route's
					p.Detail = fmt.Sprintf("request body over %d bytes", MaxRequestBytes)
				}
			case http.StatusMethodNotAllowed:
				p.Code = codeMethodNotAllowed
			case http.StatusRequestTimeout:
				p.Code = codeRequestTimeout
			case http.StatusRequestURITooLong:
				p.Code = codeURITooLong
			case http.StatusRequestHeaderFieldsTooLarge:
				p.Code = codeHeadersTooLarge
				p.Detail = fmt.Sprintf("the request line and headers exceed %d bytes", MaxHeaderBytes)
			case http.StatusBadRequest:
				p.Code = bridge.CodeInvalidRequest
			default:
				p.Code = bridge.CodeInternal
			}
		default:
			p.Code = bridge.CodeInternal
		}
		if p.Status == 0 {
			p.Status = statuses[p.Code]
		}
		if p.Status == 0 || (p.Code == bridge.CodeInternal && fe == nil) {
			p.Status = http.StatusInternalServerError
		}
		if p.Status >= 500 {
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "code", p.Code, "request_id", p.RequestID, "err", err)
		}
		if p.Code == bridge.CodeInternal {
			p.Detail = "internal error; quote the request_id when reporting it"
		}
		c.Locals(problemCodeKey, string(p.Code))
		if p.Status == http.StatusServiceUnavailable {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds))
		}
		if p.Status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="b2bridge"`)
		}
		p.Type = "/problems/" + string(p.Code)
		p.Title = http.StatusText(p.Status)
		return c.Status(p.Status).JSON(p, "application/problem+json")
	}
}
