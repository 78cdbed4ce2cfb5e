package storefront

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// checkJSON reads a request body against the Go type it will be decoded into and
// refuses, naming the field by its JSON path (lines[3].qty), what encoding/json would
// let through silently: unknown fields (a misspelt "po_numbr" would be dropped),
// duplicate keys (the last would win), data after the value, and numbers that are not
// whole or do not fit. It also names wrong types. A body it accepts decodes into t.
func checkJSON(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := (&jsonWalker{dec: dec}).value("", t); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("body", "has data after the JSON value")
	}
	return nil
}

type jsonWalker struct{ dec *json.Decoder }

// unmarshaler is a type that reads itself from JSON (decimals).
var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func (w *jsonWalker) value(path string, t reflect.Type) error {
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntax()
	}
	if tok == nil { // null: only optional fields may be null
		if t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			return nil
		}
		return invalid(orBody(path), "must not be null")
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		raw, err := json.Marshal(tok)
		if err != nil {
			return invalid(path, "has an invalid value")
		}
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return invalid(path, "must be a decimal number such as \"12.50\"")
		}
		return nil
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' && t.Kind() == reflect.Struct {
			return w.object(path, t)
		}
		if tok == '[' && t.Kind() == reflect.Slice {
			return w.array(path, t.Elem())
		}
	case string:
		if t.Kind() == reflect.String {
			return nil
		}
	case json.Number:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(tok.String(), 10, t.Bits()); err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return invalid(path, "is out of range")
				}
				return invalid(path, "must be a whole number")
			}
			return nil
		}
	case bool:
		if t.Kind() == reflect.Bool {
			return nil
		}
	}
	return invalid(orBody(path), "must be "+jsonKind(t))
}

func (w *jsonWalker) object(path string, t reflect.Type) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax()
		}
		key := tok.(string) // object keys are strings, or Token fails
		name := join(path, key)
		if seen[key] {
			return invalid(name, "appears twice")
		}
		seen[key] = true
		ft, ok := fields[key]
		if !ok {
			return invalid(name, "is not a field of this request")
		}
		if err := w.value(name, ft); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return w.syntax()
	}
	return nil
}

func (w *jsonWalker) array(path string, elem reflect.Type) error {
	for i := 0; w.dec.More(); i++ {
		if err := w.value(path+"["+strconv.Itoa(i)+"]", elem); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // ']'
		return w.syntax()
	}
	return nil
}

// syntax is a body that is not JSON: the document's fault, not a field's.
func (w *jsonWalker) syntax() error {
	return invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", w.dec.InputOffset()))
}

// fieldCache maps a struct type to its JSON field names and types.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	fieldCache.Store(t, fields)
	return fields
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct:
		return "an object"
	}
	return "a " + t.Kind().String()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
