package test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's chromium; .ci/run installs it) at a window
// size, and returns a context for chromedp and a screenshot function that saves PNGs
// and names them in the log.
func browser(t *testing.T, width, height int) (context.Context, func(name string)) {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium on this machine (apt-get install chromium): the browser tests did not run")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(width, height))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	// Kept after the run, unlike t.TempDir(): B2BRIDGE_SCREENSHOTS, else the system's
	// temporary directory.
	root := os.Getenv("B2BRIDGE_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "b2bridge-screenshots")
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		var png []byte
		if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil { // quality 100: PNG
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		file := filepath.Join(dir, name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", file)
	}
	return ctx, shot
}

// until polls check every 50ms for up to 15s until it is true; last says what it saw.
func until(what string, check func(ctx context.Context) (ok bool, last string)) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		for {
			ok, last := check(ctx)
			if ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never happened (last: %q)", what, last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action {
	return until(fmt.Sprintf("%s saying %q", sel, want), func(ctx context.Context) (bool, string) {
		var text string
		err := chromedp.Text(sel, &text, chromedp.ByQuery, chromedp.AtLeast(0)).Do(ctx)
		return err == nil && strings.Contains(text, want), text
	})
}

// press clicks a visible element from the page itself: a click at coordinates misses
// when the layout moves between finding the element and clicking (seen on the phone size
// as the order history grows).
func press(sel string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click()`, sel), nil),
	}
}

// waitJS waits until a JavaScript expression is true.
func waitJS(expr string) chromedp.Action {
	return until(expr, func(ctx context.Context) (bool, string) {
		var ok bool
		err := chromedp.Evaluate(expr, &ok).Do(ctx)
		return err == nil && ok, ""
	})
}

func countOrders(t *testing.T, db *sql.DB, account string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM orders WHERE account_id = ?`, account).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A buyer on the demo storefront, in Chromium, at desktop and phone sizes: finds an item
// by name,
// sees its price break change with the quantity, gets a quote, places an order and finds
// it in the history, and the ERP has exactly that order; a double click on "Place order"
// books once.
func TestDemoStorefrontInChromium(t *testing.T) {
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			dir, creds, db := erpDir(t)
			srv := startServer(t, dir)
			account := creds.Storefronts[0].Accounts[0]
			ctx, shot := browser(t, size.width, size.height)
			var one, fifty string
			err := chromedp.Run(ctx,
				chromedp.Navigate(srv.URL+"/"),
				chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
				chromedp.SendKeys("#q", "bearing 00003", chromedp.ByQuery),
				waitText("#results", "BRG-00003 · Bearing 00003"),
				chromedp.Evaluate(`[...document.querySelectorAll("#results button")].find((b) => b.textContent.startsWith("BRG-00003")).click()`, nil),
				waitText("#item-sku", "BRG-00003"),
				waitText("#item-available", "available"),
				waitText("#item-source", "old"),
				waitText("#qty-price", "1 ×"),
				chromedp.Text("#qty-price", &one, chromedp.ByQuery),
				chromedp.SetValue("#qty", "50", chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector("#qty").dispatchEvent(new Event("input"))`, nil),
				waitText("#qty-price", "50 ×"),
				chromedp.Text("#qty-price", &fifty, chromedp.ByQuery),
			)
			shot(size.name + "-item")
			if err != nil {
				t.Fatal(err)
			}
			price := func(s string) string {
				_, after, _ := strings.Cut(s, "× ")
				p, _, _ := strings.Cut(after, " ")
				return p
			}
			if price(one) == price(fifty) || !strings.Contains(fifty, "break from 50") {
				t.Errorf("the price for 1 (%q) and for 50 (%q): want the break at 50 to show", one, fifty)
			}

			err = chromedp.Run(ctx,
				press(`#add button[type="submit"]`),
				waitText("#quote", "Total"),
				waitText("#quote", "credit ok"),
				chromedp.SetValue("#po", "PO-BROWSER-1", chromedp.ByQuery),
				press("#place"),
				waitText("#order-result", "placed"),
				waitText("#history tbody", "PO-BROWSER-1"),
			)
			shot(size.name + "-ordered")
			if err != nil {
				t.Fatal(err)
			}
			var sku string
			var qty int
			var po string
			if err := db.QueryRow(`SELECT l.sku, l.qty, o.po_number FROM orders o JOIN order_lines l ON l.order_id = o.id
				WHERE o.account_id = ?`, account).Scan(&sku, &qty, &po); err != nil || sku != "BRG-00003" || qty != 50 || po != "PO-BROWSER-1" {
				t.Errorf("the ERP has %s × %d, PO %s (%v); want BRG-00003 × 50, PO-BROWSER-1", sku, qty, po, err)
			}
			if n := countOrders(t, db, account); n != 1 {
				t.Errorf("the ERP has %d orders of %s, want 1", n, account)
			}

			// A double click: two clicks in one task, before the first request is answered.
			err = chromedp.Run(ctx,
				chromedp.SetValue("#qty", "1", chromedp.ByQuery),
				press(`#add button[type="submit"]`),
				waitText("#quote", "Total"),
				chromedp.SetValue("#po", "PO-DOUBLE", chromedp.ByQuery),
				chromedp.Evaluate(`{ const b = document.querySelector("#place"); b.click(); b.click(); }`, nil),
				waitText("#order-result", "placed"),
				waitText("#history tbody", "PO-DOUBLE"),
			)
			shot(size.name + "-double-click")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // a second booking would have landed by now
			if n := countOrders(t, db, account); n != 2 {
				t.Errorf("after a double click the ERP has %d orders of %s, want 2", n, account)
			}
		})
	}
}

// Degraded states are visible: with the ERP's stock reads failing, the page shows the
// stale badge on the last known stock; with order writes failing, the "ERP unreachable"
// banner; a price changed in the ERP since the quote is a 409 shown with the new price,
// accepted in one click, and then booked at that price.
func TestDemoStorefrontDegradedStates(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir, "B2BRIDGE_CACHE_STOCK_TTL=300ms", "B2BRIDGE_CACHE_REVALIDATE=0s")
	account := creds.Storefronts[0].Accounts[0]
	ctx, shot := browser(t, 1280, 900)
	fault := func(class string, rate float64) {
		admin(t, srv, creds.AdminKey, "PUT", "/faults", map[string]any{"class": class, "error_rate": rate}, 200)
	}
	lookUp := chromedp.Tasks{
		chromedp.SetValue("#q", "BRG-00001", chromedp.ByQuery),
		press(`#search button`),
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		lookUp,
		waitText("#item-source", "erp"),
		press(`#add button[type="submit"]`),
		waitText("#quote", "Total"),
	)
	if err != nil {
		shot("degraded-start")
		t.Fatal(err)
	}
	fault("stock_reads", 1)
	time.Sleep(400 * time.Millisecond) // past the stock TTL
	err = chromedp.Run(ctx, lookUp, waitText("#item-source", "stale"))
	shot("stale-badge")
	if err != nil {
		t.Fatal(err)
	}
	admin(t, srv, creds.AdminKey, "DELETE", "/faults", nil, 204)

	fault("order_writes", 1)
	err = chromedp.Run(ctx,
		press("#place"),
		waitText("#banner", "ERP unreachable"),
	)
	shot("erp-unreachable")
	if err != nil {
		t.Fatal(err)
	}
	admin(t, srv, creds.AdminKey, "DELETE", "/faults", nil, 204)
	if n := countOrders(t, db, account); n != 0 {
		t.Fatalf("the ERP has %d orders after failed writes, want 0", n)
	}

	// The list price moves in the ERP after the quote: the order is refused with the new
	// price, which the buyer accepts, and the order books at it.
	mustExec(t, db, `UPDATE list_prices SET price = price + 100 WHERE item_id = (SELECT id FROM items WHERE sku = 'BRG-00001')`)
	err = chromedp.Run(ctx,
		press("#place"),
		waitText("#order-result", "Prices changed"),
	)
	shot("price-changed")
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		press(`#order-result button`),
		waitText("#order-result", "accepted"),
		press("#place"),
		waitText("#order-result", "placed"),
	)
	shot("price-accepted")
	if err != nil {
		t.Fatal(err)
	}
	var unit, list string
	if err := db.QueryRow(`SELECT l.unit_price, p.price FROM order_lines l JOIN orders o ON o.id = l.order_id
		JOIN list_prices p ON p.item_id = l.item_id AND p.currency = o.currency WHERE o.account_id = ?`, account).Scan(&unit, &list); err != nil {
		t.Fatal(err)
	}
	if unit != list {
		t.Errorf("booked at %s, the ERP's list price is %s", unit, list)
	}
}

// An ERP admin in the console, in Chromium: a storefront key is refused; with the admin
// key, a CSV import is dry-run, then applied, and the storefront's answer changes; an
// inline edit that another admin overtook is refused and shown as it is now; a fault is
// switched on; the live charts draw from /metrics.
func TestAdminConsoleInChromium(t *testing.T) {
	dir, creds, _ := erpDir(t)
	srv := startServer(t, dir)
	sf := creds.Storefronts[0]
	ctx, shot := browser(t, 1280, 1000)
	unitOf := func(sku string) string {
		r, err := call(context.Background(), "GET", srv.URL+"/v1/availability?sku="+sku, sf.Key, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("availability: %d %s %v", r.Status, r.Raw, err)
		}
		it := r.Body["items"].([]any)[0].(map[string]any)
		if e, ok := it["error"].(string); ok {
			return e
		}
		return it["unit"].(string)
	}
	const sku = "BRG-00005-CASE24"
	if u := unitOf(sku); u != "unknown_sku" {
		t.Fatalf("%s before the import: %s, want unknown_sku", sku, u)
	}

	var consoleHidden bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible("#login", chromedp.ByQuery),
		chromedp.SetValue("#key", sf.Key, chromedp.ByQuery),
		press(`#login button`),
		waitText("#banner", "refused"),
		chromedp.Evaluate(`document.querySelector("#console").hidden`, &consoleHidden),
	)
	shot("storefront-key-refused")
	if err != nil {
		t.Fatal(err)
	}
	if !consoleHidden {
		t.Fatal("the console shows with a storefront key")
	}

	err = chromedp.Run(ctx,
		chromedp.SetValue("#key", creds.AdminKey, chromedp.ByQuery),
		press(`#login button`),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		waitText("#mappings tbody", "BRG-"),
		press("#load-current"),
		waitJS(`document.querySelector("#csv").value.includes("erp_sku")`),
		chromedp.Evaluate(`{ const t = document.querySelector("#csv");
			t.value = t.value.trimEnd() + "\n,`+sku+`,BRG-00005,CASE24,24,\n"; t.dispatchEvent(new Event("input")); }`, nil),
		press("#dry-run"),
		waitText("#report", "Dry run: would create 1, change 0, delete 0"),
	)
	shot("dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if u := unitOf(sku); u != "unknown_sku" {
		t.Fatalf("%s after the dry run: %s, want unknown_sku (a dry run changes nothing)", sku, u)
	}
	err = chromedp.Run(ctx,
		press("#apply"),
		waitText("#report", "Applied: create 1"),
		waitText("#audit tbody", "csv"),
	)
	shot("applied")
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); unitOf(sku) != "CASE24"; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the storefront still answers %s for %s after the import", unitOf(sku), sku)
		}
	}

	// Inline edit, overtaken by another admin between opening and saving.
	err = chromedp.Run(ctx,
		chromedp.SetValue("#prefix", "BRG-00005", chromedp.ByQuery),
		press(`#filter button`),
		// Clicked from the page once the filtered list is in: an earlier load may still
		// replace the rows until then.
		waitJS(`(() => { const rows = [...document.querySelectorAll("#mappings tbody tr")];
			return rows.length > 0 && rows.every((r) => r.dataset.key.startsWith("BRG-00005")); })()`),
		chromedp.Evaluate(`document.querySelector('tr[data-key="`+sku+`"] button').click()`, nil),
		chromedp.WaitVisible(`input[aria-label="factor of `+sku+`"]`, chromedp.ByQuery),
	)
	if err != nil {
		shot("edit")
		t.Fatal(err)
	}
	current := admin(t, srv, creds.AdminKey, "GET", "/mappings/skus/"+sku, nil, 200)
	if r, err := call(context.Background(), "PUT", srv.URL+"/admin/v1/mappings/skus/"+sku, creds.AdminKey,
		map[string]any{"erp_sku": "BRG-00005", "unit": "CASE24", "factor": 6}, "If-Match", current.Header.Get("ETag")); err != nil || r.Status != 200 {
		t.Fatalf("the other admin's change: %d %s %v", r.Status, r.Raw, err)
	}
	err = chromedp.Run(ctx,
		chromedp.SetValue(`input[aria-label="factor of `+sku+`"]`, "12", chromedp.ByQuery),
		press(`tr[data-key="`+sku+`"] button`),
		waitText("#banner", "changed by someone else"),
		waitText(`tr[data-key="`+sku+`"]`, "6"),
	)
	shot("edit-conflict")
	if err != nil {
		t.Fatal(err)
	}
	if f := admin(t, srv, creds.AdminKey, "GET", "/mappings/skus/"+sku, nil, 200).Body["factor"]; f != float64(6) {
		t.Errorf("after the refused edit the factor is %v, want the other admin's 6", f)
	}

	// A fault switched on from the console reaches the embedded ERP; the charts draw.
	err = chromedp.Run(ctx,
		press(`input[aria-label="Fail every stock_reads call"]`),
		until("the fault reaching the ERP", func(context.Context) (bool, string) {
			faults := admin(t, srv, creds.AdminKey, "GET", "/faults", nil, 200).Raw
			return strings.Contains(faults, `"error_rate":1`), faults
		}),
		until("a request rate drawn", func(ctx context.Context) (bool, string) {
			var text string
			err := chromedp.Text("#chart-rate strong", &text, chromedp.ByQuery, chromedp.AtLeast(0)).Do(ctx)
			return err == nil && text != "" && !strings.Contains(text, "—"), text
		}),
	)
	shot("fault-and-charts")
	if err != nil {
		t.Fatal(err)
	}
}

// unlabelled lists the visible form controls and buttons a screen reader could not name.
const unlabelled = `[...document.querySelectorAll("input, select, textarea, button")].filter((e) => {
	if (e.offsetParent === null) return false; // not shown now
	if (e.tagName === "BUTTON") return !(e.textContent.trim() || e.getAttribute("aria-label"));
	return !(e.labels?.length || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby"));
}).map((e) => e.outerHTML.slice(0, 100))`

// Both pages work from the keyboard alone, name every control for a screen reader, and
// fit a phone-sized and a desktop-sized window without sideways scrolling.
func TestPagesAreAccessible(t *testing.T) {
	dir, creds, db := erpDir(t)
	srv := startServer(t, dir)
	account := creds.Storefronts[0].Accounts[0]
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			ctx, shot := browser(t, size.width, size.height)
			check := func(page string) {
				t.Helper()
				var missing []string
				var overflow bool
				if err := chromedp.Run(ctx, chromedp.Evaluate(unlabelled, &missing),
					chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)); err != nil {
					t.Fatal(err)
				}
				if len(missing) > 0 {
					t.Errorf("%s: controls without an accessible name: %v", page, missing)
				}
				if overflow {
					t.Errorf("%s scrolls sideways at %dx%d", page, size.width, size.height)
				}
			}
			before := countOrders(t, db, account)
			err := chromedp.Run(ctx,
				chromedp.Navigate(srv.URL+"/"),
				chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
				chromedp.Focus("#q", chromedp.ByQuery),
				chromedp.SendKeys("#q", "BRG-00001\r", chromedp.ByQuery), // Enter submits the search
				waitText("#item-available", "available"),
				chromedp.Focus("#qty", chromedp.ByQuery),
				chromedp.SendKeys("#qty", "\r", chromedp.ByQuery), // Enter adds to the cart
				waitText("#quote", "Total"),
				chromedp.Focus("#po", chromedp.ByQuery),
				chromedp.SendKeys("#po", "PO-KEYS\r", chromedp.ByQuery), // Enter places the order
				waitText("#order-result", "placed"),
			)
			shot("demo-keyboard")
			if err != nil {
				t.Fatal(err)
			}
			if n := countOrders(t, db, account); n != before+1 {
				t.Errorf("the keyboard order: %d orders, want %d", n, before+1)
			}
			check("/")
			err = chromedp.Run(ctx,
				chromedp.Navigate(srv.URL+"/admin"),
				chromedp.WaitVisible("#key", chromedp.ByQuery),
				chromedp.Focus("#key", chromedp.ByQuery),
				chromedp.SendKeys("#key", creds.AdminKey+"\r", chromedp.ByQuery),
				chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
				waitText("#mappings tbody", "BRG-"),
			)
			shot("admin-keyboard")
			if err != nil {
				t.Fatal(err)
			}
			check("/admin")
		})
	}
}
