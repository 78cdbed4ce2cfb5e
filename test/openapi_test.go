package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/b2bridge/b2bridge/storefront"
)

// contract holds every response of the end-to-end tests to the OpenAPI document the
// binary serves, in strict mode: a field the code sends and the document does not
// declare fails the test, as does one the document requires and the code leaves out, a
// status or problem code a route does not list, or a wrong type.
var contract = mustContract(storefront.OpenAPI)

type openAPIContract struct {
	v     validator.Validator
	model *v3.Document

	mu   sync.Mutex
	seen map[string]bool // "GET /v1/availability 200": what the tests exercised
}

func mustContract(spec []byte) *openAPIContract {
	c, err := newContract(spec)
	if err != nil {
		panic(err)
	}
	return c
}

func newContract(spec []byte) (*openAPIContract, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	// /openapi.json is the document itself: its top level is declared, its contents are
	// OpenAPI's (TestOpenAPIDocumentAndDocsPage compares them with the YAML). A path
	// with a dot is named in brackets, which ** does not reach.
	ignore := []string{"$.body.info.**", "$.body.servers[*].*", "$.body.tags[*].*", "$.body.security[*].*",
		"$.body.paths.**", "$.body.components.**"}
	for path := range model.Model.Paths.PathItems.KeysFromOldest() {
		if strings.Contains(path, ".") {
			ignore = append(ignore, "$.body.paths['"+path+"']")
		}
	}
	// Headers every answer may carry are documented once, not per response; the ones
	// a route promises (Location, Idempotent-Replayed, Retry-After, ...) stay strict.
	v, errs := validator.NewValidator(doc, config.WithStrictMode(), config.WithStrictIgnorePaths(ignore...),
		config.WithStrictIgnoredHeadersExtra("x-content-type-options", "content-encoding",
			"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
			"access-control-allow-origin", "access-control-expose-headers"))
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi.yaml: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %s", describe(verrs))
	}
	return &openAPIContract{v: v, model: &model.Model, seen: map[string]bool{}}, nil
}

// check validates one response. A 404 or 405 for a path or method the document does not
// have is the server saying so, and passes.
func (c *openAPIContract) check(req *http.Request, status int, header http.Header, body []byte) error {
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	ok, errs := c.v.ValidateHttpResponse(req, resp)
	if !ok {
		if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && unrouted(errs) {
			return nil
		}
		return fmt.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %s\nbody: %.2000s",
			req.Method, req.URL.RequestURI(), status, describe(errs), body)
	}
	if _, _, path := paths.FindPath(req, c.model, nil); path != "" {
		c.mu.Lock()
		c.seen[fmt.Sprintf("%s %s %d", req.Method, path, status)] = true
		c.mu.Unlock()
	}
	return nil
}

func unrouted(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if !e.IsPathMissingError() && !e.IsOperationMissingError() {
			return false
		}
	}
	return len(errs) > 0
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s: %s", se.FieldPath, se.Reason)
		}
	}
	return b.String()
}

// documents tells whether the document has the operation of a Fiber route (":param"
// segments).
func (c *openAPIContract) documents(method, route string) bool {
	path := regexp.MustCompile(`:(\w+)`).ReplaceAllString(route, "{$1}")
	item, ok := c.model.Paths.PathItems.Get(path)
	if !ok {
		return false
	}
	_, ok = item.GetOperations().Get(strings.ToLower(method))
	return ok
}

// unexercised lists the document's operations that no test drove to a 2xx answer.
func (c *openAPIContract) unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for path, item := range c.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			ok := false
			for code := range op.Responses.Codes.KeysFromOldest() {
				if strings.HasPrefix(code, "2") && c.seen[fmt.Sprintf("%s %s %s", strings.ToUpper(method), path, code)] {
					ok = true
				}
			}
			if !ok {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkedTransport validates every response it carries against contract.
type checkedTransport struct{ next http.RoundTripper }

func (t checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := contract.check(req, resp.StatusCode, resp.Header, body); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
