package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/b2bridge/b2bridge/bridge"
	"github.com/b2bridge/b2bridge/storefront"
)

// Page sizes of the mapping list and the audit trail.
const (
	defaultPage = 100
	maxPage     = 1000
)

type mappings struct {
	svc *bridge.Service
}

type mappingList struct {
	Mappings   []bridge.Mapping `json:"mappings"`
	NextCursor *string          `json:"next_cursor"`
}

// GET /admin/v1/mappings/:kind?storefront=&prefix=&erp_sku=&account=&limit=&cursor=
// JSON pages; with Accept: text/csv, every matching row as CSV.
func (h mappings) list(c *fiber.Ctx) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	f := bridge.MappingFilter{Kind: kind, Prefix: c.Query("prefix")}
	if sf, ok := queryValue(c, "storefront"); ok {
		if sf == "*" {
			sf = "" // the mappings shared by every storefront
		}
		f.Storefront = &sf
	}
	switch kind {
	case bridge.MappingSKUs:
		f.Target = c.Query("erp_sku")
	case bridge.MappingCustomers:
		f.Target = c.Query("account")
	}
	if c.Accepts(fiber.MIMEApplicationJSON, "text/csv") == "text/csv" {
		ms, err := h.svc.Mappings(c.UserContext(), storefront.Principal(c), f)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+string(kind)+`.csv"`)
		return WriteCSV(c, kind, ms)
	}
	limit, err := limitParam(c, defaultPage, maxPage)
	if err != nil {
		return err
	}
	if cur := c.Query("cursor"); cur != "" {
		after, err := decodeCursor(cur)
		if err != nil {
			return invalid("cursor", "is not one this API returned")
		}
		f.After = &after
	}
	f.Limit = limit + 1
	ms, err := h.svc.Mappings(c.UserContext(), storefront.Principal(c), f)
	if err != nil {
		return err
	}
	out := mappingList{Mappings: ms}
	if out.Mappings == nil {
		out.Mappings = []bridge.Mapping{}
	}
	if len(ms) > limit {
		out.Mappings = ms[:limit]
		next := encodeCursor(ms[limit-1])
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// GET /admin/v1/mappings/:kind/:key[?storefront=]
func (h mappings) get(c *fiber.Ctx) error {
	id, err := identity(c)
	if err != nil {
		return err
	}
	m, err := h.one(c.UserContext(), storefront.Principal(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, m.ETag())
	return c.JSON(m)
}

func (h mappings) one(ctx context.Context, p *bridge.Principal, id bridge.Mapping) (bridge.Mapping, error) {
	ms, err := h.svc.Mappings(ctx, p, bridge.MappingFilter{Kind: id.Kind, Storefront: &id.Storefront, Key: id.Key})
	if err != nil {
		return bridge.Mapping{}, err
	}
	if len(ms) == 0 {
		return bridge.Mapping{}, bridge.Errorf(bridge.CodeNotFound, "no such %s mapping", id.Kind)
	}
	return ms[0], nil
}

// POST /admin/v1/mappings/:kind: create one mapping; 409 if it exists.
func (h mappings) create(c *fiber.Ctx) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	m, err := body(c, bridge.Mapping{Kind: kind})
	if err != nil {
		return err
	}
	saved, err := h.put(c, bridge.MappingChange{Kind: kind, Puts: []bridge.Mapping{m}, Create: true})
	if err != nil {
		return err
	}
	loc := "/admin/v1/mappings/" + string(kind) + "/" + url.PathEscape(saved.Key)
	if saved.Storefront != "" {
		loc += "?storefront=" + url.QueryEscape(saved.Storefront)
	}
	c.Location(loc)
	c.Set(fiber.HeaderETag, saved.ETag())
	return c.Status(fiber.StatusCreated).JSON(saved)
}

// PUT /admin/v1/mappings/:kind/:key[?storefront=] with If-Match: replace one mapping.
func (h mappings) update(c *fiber.Ctx) error {
	id, match, err := conditional(c)
	if err != nil {
		return err
	}
	m, err := body(c, id)
	if err != nil {
		return err
	}
	saved, err := h.put(c, bridge.MappingChange{Kind: id.Kind, Puts: []bridge.Mapping{m}, IfMatch: match})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, saved.ETag())
	return c.JSON(saved)
}

// put applies a one-row change and returns the row as stored.
func (h mappings) put(c *fiber.Ctx, ch bridge.MappingChange) (bridge.Mapping, error) {
	ch.Source = "api"
	rep, err := h.svc.ChangeMappings(c.UserContext(), storefront.Principal(c), ch)
	if err != nil {
		return bridge.Mapping{}, err
	}
	if len(rep.Refused) > 0 {
		return bridge.Mapping{}, &bridge.Error{Code: bridge.CodeInvalidMappings, Detail: rep.Refused[0].Reason,
			Fields: []bridge.FieldError{{Field: "body", Reason: rep.Refused[0].Reason}}}
	}
	return rep.Saved[0], nil
}

// DELETE /admin/v1/mappings/:kind/:key[?storefront=] with If-Match.
func (h mappings) delete(c *fiber.Ctx) error {
	id, match, err := conditional(c)
	if err != nil {
		return err
	}
	_, err = h.svc.ChangeMappings(c.UserContext(), storefront.Principal(c), bridge.MappingChange{Kind: id.Kind, Source: "api",
		Deletes: []bridge.Mapping{id}, IfMatch: match})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// PUT /admin/v1/mappings/:kind with Content-Type: text/csv[?dry_run=true]: replace the
// whole kind, all or nothing.
func (h mappings) importCSV(c *fiber.Ctx) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), "text/csv") {
		return invalid("Content-Type", "must be text/csv: an import is a CSV file with a header row")
	}
	dryRun, err := strconv.ParseBool(c.Query("dry_run", "false"))
	if err != nil {
		return invalid("dry_run", "must be true or false")
	}
	p := storefront.Principal(c)
	rep, err := Import(c.UserContext(), func(ctx context.Context, ch bridge.MappingChange) (bridge.MappingReport, error) {
		return h.svc.ChangeMappings(ctx, p, ch)
	}, kind, "csv", bytes.NewReader(c.Body()), dryRun)
	if err != nil {
		return err
	}
	if len(rep.Refused) > 0 && !dryRun {
		return &bridge.Error{Code: bridge.CodeInvalidMappings, Report: rep,
			Detail: fmt.Sprintf("%d rows refused (first at line %d: %s); nothing was changed", len(rep.Refused),
				rep.Refused[0].Line, rep.Refused[0].Reason)}
	}
	return c.JSON(rep)
}

type auditEntry struct {
	ID     int64           `json:"id"`
	At     string          `json:"at"`
	Actor  string          `json:"actor"`
	Source string          `json:"source"`
	Kind   string          `json:"kind"`
	Before *bridge.Mapping `json:"before"`
	After  *bridge.Mapping `json:"after"`
}

// GET /admin/v1/mappings/audit?kind=&limit=&cursor=: newest first.
func (h mappings) audit(c *fiber.Ctx) error {
	f := bridge.AuditFilter{}
	if k := c.Query("kind"); k != "" {
		kind, err := bridge.ParseMappingKind(k)
		if err != nil {
			return invalid("kind", "must be skus, customers or regions")
		}
		f.Kind = kind
	}
	limit, err := limitParam(c, defaultPage, maxPage)
	if err != nil {
		return err
	}
	if cur := c.Query("cursor"); cur != "" {
		id, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || id < 1 {
			return invalid("cursor", "is not one this API returned")
		}
		f.Before = id
	}
	f.Limit = limit + 1
	es, err := h.svc.MappingAudit(c.UserContext(), storefront.Principal(c), f)
	if err != nil {
		return err
	}
	out := struct {
		Entries    []auditEntry `json:"entries"`
		NextCursor *string      `json:"next_cursor"`
	}{Entries: []auditEntry{}}
	for i, e := range es {
		if i == limit {
			next := strconv.FormatInt(es[i-1].ID, 10)
			out.NextCursor = &next
			break
		}
		out.Entries = append(out.Entries, auditEntry{ID: e.ID, At: e.At.Format("2006-01-02T15:04:05.000000Z07:00"),
			Actor: e.Actor, Source: e.Source, Kind: string(e.Kind), Before: e.Before, After: e.After})
	}
	return c.JSON(out)
}

func kindParam(c *fiber.Ctx) (bridge.MappingKind, error) {
	kind, err := bridge.ParseMappingKind(c.Params("kind"))
	if err != nil {
		return "", bridge.Errorf(bridge.CodeNotFound, "no mapping kind %q: skus, customers or regions", c.Params("kind"))
	}
	return kind, nil
}

// identity is the mapping a /:kind/:key route names: its key from the path (escaped
// like any path segment) and its storefront from ?storefront= (required for customers;
// absent for a SKU mapping shared by every storefront).
func identity(c *fiber.Ctx) (bridge.Mapping, error) {
	kind, err := kindParam(c)
	if err != nil {
		return bridge.Mapping{}, err
	}
	key, err := url.PathUnescape(c.Params("key"))
	if err != nil {
		return bridge.Mapping{}, invalid("key", "is not a valid escaped path segment")
	}
	sf, _ := queryValue(c, "storefront")
	if kind == bridge.MappingCustomers && sf == "" {
		return bridge.Mapping{}, invalid("storefront", "is required: a customer id belongs to one storefront")
	}
	return bridge.Mapping{Kind: kind, Storefront: sf, Key: key}, nil
}

// body reads a mapping from a JSON body; the fields that name it (key, storefront) may
// be left out, and must agree with id where given.
func body(c *fiber.Ctx, id bridge.Mapping) (bridge.Mapping, error) {
	var m bridge.Mapping
	if err := m.UnmarshalJSON(c.Body()); err != nil {
		return m, invalid("body", "must be a JSON "+string(id.Kind)+" mapping: "+err.Error())
	}
	if m.Kind != "" && m.Kind != id.Kind {
		return m, invalid("body", fmt.Sprintf("is a %s mapping, not one of %s", m.Kind, id.Kind))
	}
	if id.Key != "" && m.Key != "" && m.Key != id.Key {
		return m, invalid("body", fmt.Sprintf("names %q where the path names %q", m.Key, id.Key))
	}
	if id.Key != "" && m.Storefront != "" && m.Storefront != id.Storefront {
		return m, invalid("storefront", fmt.Sprintf("is %q in the body and %q in the query", m.Storefront, id.Storefront))
	}
	m.Kind = id.Kind
	if id.Key != "" {
		m.Key, m.Storefront = id.Key, id.Storefront
	}
	return m, nil
}

// conditional reads the mapping a change names and its required If-Match: a change
// without it could overwrite another admin's change unseen.
func conditional(c *fiber.Ctx) (bridge.Mapping, string, error) {
	id, err := identity(c)
	if err != nil {
		return id, "", err
	}
	v := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if v == "" {
		return id, "", &bridge.Error{Code: bridge.CodePreconditionRequired,
			Detail: "changing a mapping requires If-Match with the ETag it was read with",
			Fields: []bridge.FieldError{{Field: "If-Match", Reason: "is required"}}}
	}
	return id, strings.Clone(v), nil
}

func queryValue(c *fiber.Ctx, name string) (string, bool) {
	v := c.Context().QueryArgs().Peek(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

func limitParam(c *fiber.Ctx, def, max int) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(max))
	}
	return n, nil
}

// A cursor is the last row's (storefront, key), opaque to clients.
func encodeCursor(m bridge.Mapping) string {
	return base64.RawURLEncoding.EncodeToString([]byte(m.Storefront + "\x00" + m.Key))
}

func decodeCursor(s string) (bridge.Mapping, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bridge.Mapping{}, err
	}
	sf, key, ok := strings.Cut(string(b), "\x00")
	if !ok || key == "" {
		return bridge.Mapping{}, fmt.Errorf("malformed cursor")
	}
	return bridge.Mapping{Storefront: sf, Key: key}, nil
}
