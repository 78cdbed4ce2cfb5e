package storefront

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
)

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}

// decodeJSON reads a JSON body into v (a pointer to a struct) strictly and validates it,
// naming the offending field. Every JSON body of the API goes through it.
func decodeJSON(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		return invalid("body", "Content-Type must be application/json")
	}
	if len(c.Body()) > MaxBodyBytes { // the server's own limit is an admin import's
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "request body over "+strconv.Itoa(MaxBodyBytes)+" bytes")
	}
	if err := checkJSON(c.Body(), reflect.TypeOf(v).Elem()); err != nil {
		return err
	}
	if err := json.Unmarshal(c.Body(), v); err != nil { // checkJSON let through only what decodes
		return invalid("body", "not valid JSON: "+err.Error())
	}
	return validateStruct(v)
}

func validateStruct(v any) error {
	err := validate.Struct(v)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	be := &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: "the request has invalid fields"}
	for _, fe := range verrs {
		_, path, _ := strings.Cut(fe.Namespace(), ".") // drop the Go type's name
		be.Fields = append(be.Fields, bridge.FieldError{Field: path, Reason: reason(fe)})
	}
	return be
}

func reason(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min", "gte":
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.String {
			return "must have at least " + fe.Param() + " elements or characters"
		}
		return "must be at least " + fe.Param()
	case "max", "lte":
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.String {
			return "must have at most " + fe.Param() + " elements or characters"
		}
		return "must be at most " + fe.Param()
	case "datetime":
		return "must be a date YYYY-MM-DD"
	case "printascii":
		return "must be printable ASCII"
	}
	return fmt.Sprintf("fails %s", fe.Tag())
}

// invalid is a 400 naming one field.
func invalid(field, why string) *bridge.Error {
	return &bridge.Error{Code: bridge.CodeInvalidRequest, Detail: field + " " + why,
		Fields: []bridge.FieldError{{Field: field, Reason: why}}}
}
