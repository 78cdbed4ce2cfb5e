package contracts

import (
	"testing"
	"time"

	"github.com/govalues/decimal"
)

func d(s string) decimal.Decimal { return decimal.MustParse(s) }
func dp(s string) *decimal.Decimal {
	v := d(s)
	return &v
}
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPriceFor(t *testing.T) {
	today := day("2026-11-23")
	agreement := func(ref string, minQty int, price, from, to string) Tier {
		return Tier{Source: SourceAgreement, Ref: ref, MinQty: minQty, Price: d(price), From: day(from), To: day(to)}
	}
	group := Tier{Source: SourcePriceList, Ref: "PL-W", MinQty: 1, Price: d("9.50")}
	breaks := []Tier{
		agreement("A1", 1, "9.00", "2026-01-01", "2026-12-31"),
		agreement("A1", 10, "8.50", "2026-01-01", "2026-12-31"),
		agreement("A1", 100, "8.00", "2026-01-01", "2026-12-31"),
	}
	tests := []struct {
		name      string
		item      Item
		qty       int
		day       time.Time
		wantPrice string
		wantSrc   Source
		wantRef   string
		wantBreak int
		wantErr   error
	}{
		{name: "list price only", item: Item{ListPrice: dp("10.00")}, qty: 1, day: today, wantPrice: "10.00", wantSrc: SourceList},
		{name: "no price at all", item: Item{}, qty: 1, day: today, wantErr: ErrNoPrice},
		{name: "group price list beats list", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{group}}, qty: 1, day: today, wantPrice: "9.50", wantSrc: SourcePriceList, wantRef: "PL-W", wantBreak: 1},
		{name: "agreement beats group", item: Item{ListPrice: dp("10.00"), Tiers: append([]Tier{group}, breaks[0])}, qty: 1, day: today, wantPrice: "9.00", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 1},
		{name: "agreement beats a cheaper group price", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{{Source: SourcePriceList, Ref: "PL", MinQty: 1, Price: d("1.00")}, breaks[0]}}, qty: 1, day: today, wantPrice: "9.00", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 1},
		{name: "below first break", item: Item{ListPrice: dp("10.00"), Tiers: breaks}, qty: 9, day: today, wantPrice: "9.00", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 1},
		{name: "exactly on a break", item: Item{ListPrice: dp("10.00"), Tiers: breaks}, qty: 10, day: today, wantPrice: "8.50", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 10},
		{name: "one below the top break", item: Item{ListPrice: dp("10.00"), Tiers: breaks}, qty: 99, day: today, wantPrice: "8.50", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 10},
		{name: "top break", item: Item{ListPrice: dp("10.00"), Tiers: breaks}, qty: 100, day: today, wantPrice: "8.00", wantSrc: SourceAgreement, wantRef: "A1", wantBreak: 100},
		{name: "quantity below every break falls through", item: Item{ListPrice: dp("10.00"), Tiers: breaks[1:]}, qty: 5, day: today, wantPrice: "10.00", wantSrc: SourceList},
		{name: "window starts today", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{agreement("A", 1, "7.00", "2026-11-23", "2026-12-31")}}, qty: 1, day: today, wantPrice: "7.00", wantSrc: SourceAgreement, wantRef: "A", wantBreak: 1},
		{name: "window ends today", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{agreement("A", 1, "7.00", "2026-01-01", "2026-11-23")}}, qty: 1, day: today, wantPrice: "7.00", wantSrc: SourceAgreement, wantRef: "A", wantBreak: 1},
		{name: "window ended yesterday", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{agreement("A", 1, "7.00", "2026-01-01", "2026-11-22")}}, qty: 1, day: today, wantPrice: "10.00", wantSrc: SourceList},
		{name: "window starts tomorrow", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{agreement("A", 1, "7.00", "2026-11-24", "2026-12-31")}}, qty: 1, day: today, wantPrice: "10.00", wantSrc: SourceList},
		{name: "time of day is ignored", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{agreement("A", 1, "7.00", "2026-01-01", "2026-11-23")}}, qty: 1, day: today.Add(23*time.Hour + 59*time.Minute), wantPrice: "7.00", wantSrc: SourceAgreement, wantRef: "A", wantBreak: 1},
		{name: "overlap: the later start wins even if dearer", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{
			agreement("OLD", 1, "6.00", "2026-01-01", "2026-12-31"),
			agreement("NEW", 1, "6.50", "2026-06-01", "2026-12-31"),
		}}, qty: 1, day: today, wantPrice: "6.50", wantSrc: SourceAgreement, wantRef: "NEW", wantBreak: 1},
		{name: "overlap on the same start: the lower price wins", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{
			agreement("B", 1, "6.50", "2026-01-01", "2026-12-31"),
			agreement("A", 1, "6.40", "2026-01-01", "2026-12-31"),
		}}, qty: 1, day: today, wantPrice: "6.40", wantSrc: SourceAgreement, wantRef: "A", wantBreak: 1},
		{name: "overlap: break chosen within the winning deal", item: Item{ListPrice: dp("10.00"), Tiers: []Tier{
			agreement("A", 1, "9.00", "2026-01-01", "2026-12-31"),
			agreement("A", 100, "9.50", "2026-01-01", "2026-12-31"), // a break that raises the price
			agreement("B", 1, "9.20", "2026-01-01", "2026-12-31"),
		}}, qty: 100, day: today, wantPrice: "9.20", wantSrc: SourceAgreement, wantRef: "B", wantBreak: 1},
		{name: "open-ended tier", item: Item{Tiers: []Tier{{Source: SourcePriceList, Ref: "PL", MinQty: 1, Price: d("3.3333")}}}, qty: 3, day: today, wantPrice: "3.3333", wantSrc: SourcePriceList, wantRef: "PL", wantBreak: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.item.PriceFor(tc.qty, tc.day)
			if err != tc.wantErr {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got.Unit.String() != tc.wantPrice || got.Source != tc.wantSrc || got.Ref != tc.wantRef || got.BreakQty != tc.wantBreak {
				t.Errorf("got %s %s %q break %d, want %s %s %q break %d", got.Unit, got.Source, got.Ref, got.BreakQty,
					tc.wantPrice, tc.wantSrc, tc.wantRef, tc.wantBreak)
			}
		})
	}
}

func TestPriceForIgnoresTierOrder(t *testing.T) {
	tiers := []Tier{
		{Source: SourceAgreement, Ref: "A", MinQty: 1, Price: d("9.00")},
		{Source: SourceAgreement, Ref: "A", MinQty: 100, Price: d("9.50")},
		{Source: SourceAgreement, Ref: "B", MinQty: 1, Price: d("9.20")},
		{Source: SourcePriceList, Ref: "P", MinQty: 1, Price: d("1.00")},
	}
	want := ""
	for perm := 0; perm < 24; perm++ {
		p := permute(tiers, perm)
		got, err := Item{Tiers: p}.PriceFor(100, day("2026-11-23"))
		if err != nil {
			t.Fatal(err)
		}
		if want == "" {
			want = got.Ref + got.Unit.String()
		}
		if got.Ref+got.Unit.String() != want {
			t.Fatalf("permutation %d: got %s %s, want %s", perm, got.Ref, got.Unit, want)
		}
	}
}

func permute(in []Tier, k int) []Tier {
	rest := append([]Tier(nil), in...)
	var out []Tier
	for n := len(rest); n > 0; n-- {
		i := k % n
		k /= n
		out = append(out, rest[i])
		rest = append(rest[:i], rest[i+1:]...)
	}
	return out
}

func TestRoundHalfUp(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"1.005", 2, "1.01"}, // half-even would give 1.00
		{"1.015", 2, "1.02"},
		{"1.0049", 2, "1.00"},
		{"2.5", 0, "3"},
		{"-2.5", 0, "-3"},
		{"12.5", 2, "12.50"},
		{"0.0001", 2, "0.00"},
		{"9.995", 2, "10.00"},
		{"1.23456", 3, "1.235"},
	}
	for _, tc := range tests {
		if got := RoundHalfUp(d(tc.in), tc.scale).String(); got != tc.want {
			t.Errorf("RoundHalfUp(%s, %d) = %s, want %s", tc.in, tc.scale, got, tc.want)
		}
	}
}

func TestLineTotal(t *testing.T) {
	tests := []struct {
		unit string
		qty  int
		exp  int
		want string
	}{
		{"3.3333", 3, 2, "10.00"},
		{"0.3350", 3, 2, "1.01"}, // 1.005 rounds up
		{"12.50", 2, 2, "25.00"},
		{"199", 7, 0, "1393"},
		{"0.1235", 1, 3, "0.124"},
	}
	for _, tc := range tests {
		got, err := LineTotal(d(tc.unit), tc.qty, tc.exp)
		if err != nil || got.String() != tc.want {
			t.Errorf("LineTotal(%s, %d, %d) = %s, %v; want %s", tc.unit, tc.qty, tc.exp, got, err, tc.want)
		}
	}
}

func TestExponentAndDisplay(t *testing.T) {
	if e, err := Exponent("JPY"); err != nil || e != 0 {
		t.Errorf("JPY: %d %v", e, err)
	}
	if _, err := Exponent("XXX"); err == nil {
		t.Error("unknown currency accepted")
	}
	for in, want := range map[string]string{"12.5000": "12.50", "1.2345": "1.2345", "7": "7.00", "0.1200": "0.12"} {
		if got := Display(d(in), 2).String(); got != want {
			t.Errorf("Display(%s) = %s, want %s", in, got, want)
		}
	}
}
