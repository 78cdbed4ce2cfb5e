package contracts

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// roundHalfUpRat is the reference for LineTotal: exact rational arithmetic, halves away
// from zero.
func roundHalfUpRat(x *big.Rat, exp int) *big.Rat {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)
	abs := new(big.Rat).Abs(x)
	abs.Mul(abs, new(big.Rat).SetInt(scale))
	abs.Add(abs, big.NewRat(1, 2))
	n := new(big.Int).Quo(abs.Num(), abs.Denom()) // floor: abs is not negative
	if x.Sign() < 0 {
		n.Neg(n)
	}
	return new(big.Rat).SetFrac(n, scale)
}

// FuzzLineTotal checks round_half_up(unit × qty) against exact rational arithmetic for
// any unit price the decimal type can hold and any quantity: the same amount, at the
// currency's exponent, or an error only when the product cannot be held.
func FuzzLineTotal(f *testing.F) {
	for _, s := range []struct {
		unit string
		qty  int
		exp  uint8
	}{
		{"12.345", 3, 2}, {"0.005", 1, 2}, {"-0.005", 1, 2}, {"1.2345", 1000000, 2}, {"0.0049", 1, 2},
		{"9999999999999999.99", 10, 2}, {"1", 0, 0}, {"0.5", 1, 0}, {"2.5", 1, 0}, {"0.0005", 7, 3},
	} {
		f.Add(s.unit, s.qty, s.exp)
	}
	f.Fuzz(func(t *testing.T, unitText string, qty int, exp uint8) {
		unit, err := decimal.Parse(unitText)
		if err != nil || unit.Scale() > MaxPriceScale {
			return // not a price the ERP can hold
		}
		e := int(exp % 4)
		exact, ok := new(big.Rat).SetString(unit.String())
		if !ok {
			t.Fatalf("%s is not a rational", unit)
		}
		exact.Mul(exact, new(big.Rat).SetInt64(int64(qty)))
		got, err := LineTotal(unit, qty, e)
		if err != nil {
			// Only a product whose coefficient exceeds 19 digits may fail.
			coef := new(big.Rat).Mul(exact, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(unit.Scale())), nil)))
			if coef.Num().CmpAbs(new(big.Int).SetUint64(9_999_999_999_999_999_999)) <= 0 {
				t.Fatalf("LineTotal(%s, %d, %d): %v, but %s fits", unit, qty, e, err, exact.FloatString(unit.Scale()))
			}
			return
		}
		want := roundHalfUpRat(exact, e)
		gotRat, _ := new(big.Rat).SetString(got.String())
		if gotRat.Cmp(want) != 0 {
			t.Fatalf("LineTotal(%s, %d, %d) = %s, want %s", unit, qty, e, got, want.FloatString(e))
		}
		if got.Scale() != e && got.Prec() < decimal.MaxPrec {
			t.Fatalf("LineTotal(%s, %d, %d) = %s: scale %d, want %d", unit, qty, e, got, got.Scale(), e)
		}
	})
}

// FuzzPriceFor builds agreements and price lists from the fuzzer's bytes, shaped as the
// ERP holds them (one validity window per agreement or list, one price per break), and
// checks that the price never depends on the order of the rows, and that the tier it
// names applies on that day to that quantity.
func FuzzPriceFor(f *testing.F) {
	f.Add([]byte{0, 1, 10, 5, 1, 5, 9, 20, 2, 1, 8, 30}, 6, uint8(10), uint8(3))
	f.Add([]byte{0, 1, 10, 1, 0, 1, 10, 2, 2, 1, 7, 3}, 1, uint8(0), uint8(0))
	f.Add([]byte{}, 1, uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, rows []byte, qty int, dayOffset, windows uint8) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		day := base.AddDate(0, 0, int(dayOffset))
		type deal struct {
			source   Source
			from, to time.Time
		}
		deals := map[string]deal{}
		for i, ref := range []string{"A1", "A2", "PL1", "PL2"} {
			src := SourceAgreement
			if i >= 2 {
				src = SourcePriceList
			}
			from := base.AddDate(0, 0, int(windows>>i&1)*int(dayOffset)/2) // some start later than others
			to := time.Time{}
			if windows>>(i+4)&1 == 1 {
				to = from.AddDate(0, 0, 30)
			}
			deals[ref] = deal{src, from, to}
		}
		var tiers []Tier
		seen := map[[2]any]bool{}
		for i := 0; i+3 < len(rows) && len(tiers) < 12; i += 4 {
			ref := []string{"A1", "A2", "PL1", "PL2"}[rows[i]%4]
			minQty := int(rows[i+1]%50) + 1
			if seen[[2]any{ref, minQty}] {
				continue // one price per break, as the ERP's keys allow
			}
			seen[[2]any{ref, minQty}] = true
			d := deals[ref]
			tiers = append(tiers, Tier{Source: d.source, Ref: ref, MinQty: minQty,
				Price: decimal.MustNew(int64(rows[i+2])*100+int64(rows[i+3]), 2), From: d.from, To: d.to})
		}
		list := decimal.MustNew(25000, 2)
		item := Item{ListPrice: &list, Tiers: tiers}
		got, err := item.PriceFor(qty, day)
		if err != nil {
			t.Fatalf("PriceFor: %v with a list price", err)
		}
		for _, order := range [][]Tier{reversed(tiers), rotated(tiers)} {
			other, err := Item{ListPrice: &list, Tiers: order}.PriceFor(qty, day)
			if err != nil || other.Unit.Cmp(got.Unit) != 0 || other.Ref != got.Ref || other.Source != got.Source ||
				other.BreakQty != got.BreakQty || !other.ValidUntil.Equal(got.ValidUntil) {
				t.Fatalf("qty %d on %s: %+v in one row order, %+v %v in another", qty, day.Format(time.DateOnly), got, other, err)
			}
		}
		if got.Source == SourceList {
			for _, tr := range tiers {
				if tr.appliesTo(qty, day) {
					t.Fatalf("list price although %+v applies to %d on %s", tr, qty, day.Format(time.DateOnly))
				}
			}
			return
		}
		i := slices.IndexFunc(tiers, func(tr Tier) bool { return tr.Ref == got.Ref && tr.MinQty == got.BreakQty })
		if i < 0 || !tiers[i].appliesTo(qty, day) || tiers[i].Price.Cmp(got.Unit) != 0 {
			t.Fatalf("qty %d on %s priced %+v, which is no tier that applies", qty, day.Format(time.DateOnly), got)
		}
		for _, tr := range tiers { // an agreement that applies beats every price list
			if got.Source == SourcePriceList && tr.Source == SourceAgreement && tr.appliesTo(qty, day) {
				t.Fatalf("price list %s chosen over agreement %s", got.Ref, tr.Ref)
			}
		}
	})
}

func reversed(t []Tier) []Tier {
	out := slices.Clone(t)
	slices.Reverse(out)
	return out
}

func rotated(t []Tier) []Tier {
	if len(t) < 2 {
		return t
	}
	return append(slices.Clone(t[1:]), t[0])
}
