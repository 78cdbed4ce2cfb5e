package contracts

import (
	"fmt"

	"github.com/govalues/decimal"
)

// MaxPriceScale is the most decimals a unit price keeps (the ERP's scale).
const MaxPriceScale = 4

// exponents holds the ISO 4217 minor-unit exponent of the currencies the bridge accepts.
var exponents = map[string]int{
	"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2,
	"CZK": 2, "CAD": 2, "AUD": 2, "CNY": 2, "INR": 2, "MXN": 2, "BRL": 2,
	"JPY": 0, "KRW": 0, "HUF": 2,
	"BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3,
}

// Exponent returns the ISO 4217 exponent (digits after the decimal point) of a currency.
func Exponent(currency string) (int, error) {
	e, ok := exponents[currency]
	if !ok {
		return 0, fmt.Errorf("currency %q: not a supported ISO 4217 code", currency)
	}
	return e, nil
}

// RoundHalfUp rounds d to scale digits, halves away from zero. The decimal library's
// Round is half-to-even, which commercial invoices do not use.
func RoundHalfUp(d decimal.Decimal, scale int) decimal.Decimal {
	if d.Scale() <= scale {
		return d.Pad(scale)
	}
	t := d.Trunc(scale)
	rest, err := d.Sub(t)
	if err != nil {
		panic(err) // cannot overflow: |rest| < 1
	}
	if rest.Abs().Cmp(decimal.MustNew(5, scale+1)) >= 0 {
		ulp := decimal.MustNew(1, scale)
		if d.IsNeg() {
			ulp = ulp.Neg()
		}
		if t, err = t.Add(ulp); err != nil {
			panic(err) // cannot overflow: t has fewer digits than d
		}
	}
	return t.Pad(scale)
}

// LineTotal is round_half_up(unit × qty, exponent): the amount of one order line.
func LineTotal(unit decimal.Decimal, qty int, exponent int) (decimal.Decimal, error) {
	q, err := decimal.New(int64(qty), 0)
	if err != nil {
		return decimal.Decimal{}, err
	}
	amount, err := unit.MulExact(q, unit.Scale()) // Mul would round a product over 19 digits
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("line total %s × %d: %w", unit, qty, err)
	}
	return RoundHalfUp(amount, exponent), nil
}

// Display normalises an amount for the wire: at least the currency's exponent, no
// trailing zeros beyond it ("12.5000" → "12.50", "1.2345" stays).
func Display(d decimal.Decimal, exponent int) decimal.Decimal {
	return d.Trim(exponent).Pad(exponent)
}
