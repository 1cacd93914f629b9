package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
)

// TestBrowserAuthFlow drives the real pages in headless Chromium: a failed
// login swapped in place by htmx (so htmx works under our CSP), sign-up with
// inline errors, the files and account pages, and log out. Screenshots of
// each state land in tmp/screenshots.
func TestBrowserAuthFlow(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	base := ta.srv.URL

	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.ID("f-password"), "not my password"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#login-form [role=alert]")),
	)
	browsertest.Screenshot(t, ctx, "1-login-error")
	msg := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("#login-form [role=alert]")))
	if !strings.Contains(msg, "Incorrect email or password.") {
		t.Fatalf("login error %q", msg)
	}
	// htmx swapped the form in place: the page did not navigate and the email stayed.
	if v := browsertest.Value(t, ctx, chromedp.Value(chromedp.ID("f-email"))); v != "ann@example.com" {
		t.Fatalf("email field %q after the swap", v)
	}

	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)),
	)
	if loc := browsertest.Value(t, ctx, chromedp.Location()); loc != base+"/files" {
		t.Fatalf("after login at %q", loc)
	}
	browsertest.Screenshot(t, ctx, "2-files")

	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.ID("profile-form")),
		chromedp.SendKeys(chromedp.ID("f-new_password"), "short"),
		chromedp.SendKeys(chromedp.ID("f-current_password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#password-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-new_password-error")),
	)
	browsertest.Screenshot(t, ctx, "3-account-error")

	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-name"), "backup script"),
		chromedp.Click(chromedp.CSS(`#tokens input[value="files:read"]`)),
		chromedp.Click(chromedp.CSS("#tokens form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("new-token")),
		chromedp.ScrollIntoView(chromedp.ID("new-token")),
	)
	browsertest.Screenshot(t, ctx, "3b-token-created")
	if s := browsertest.Value(t, ctx, chromedp.Text(chromedp.ID("new-token"))); !strings.HasPrefix(s, "wu_") {
		t.Fatalf("new token %q", s)
	}

	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
	browsertest.Screenshot(t, ctx, "4-logged-out")

	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/register"),
		chromedp.WaitVisible(chromedp.ID("register-form")),
		chromedp.SendKeys(chromedp.ID("f-email"), "ANN@example.com"),
		chromedp.SendKeys(chromedp.ID("f-password"), "1234567"),
		chromedp.Click(chromedp.CSS("#register-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-password-error")),
	)
	browsertest.Screenshot(t, ctx, "5-register-password-error")
	if pwErr := browsertest.Value(t, ctx, chromedp.Text(chromedp.ID("f-password-error"))); !strings.Contains(pwErr, "at least 8") {
		t.Fatalf("password error %q", pwErr)
	}
	// A taken email gets the same answer as a new one: the sign-in page.
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-password"), "long enough now"),
		chromedp.Click(chromedp.CSS("#register-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
	browsertest.Screenshot(t, ctx, "6-register-email-taken")
	if body := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, "Your account is ready") {
		t.Fatalf("after sign-up with a taken email: %q", body)
	}
}

// TestBrowserPhoneDark checks the layout on a phone in dark mode: the menu
// collapses into a toggle that opens, and the error page renders.
func TestBrowserPhoneDark(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browsertest.PhoneDark(t, ctx)
	base := ta.srv.URL
	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
	)
	browsertest.Screenshot(t, ctx, "1-login")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("header details summary")),
		chromedp.Click(chromedp.CSS("header details summary")),
		chromedp.WaitVisible(chromedp.CSS(`header details a[href="/account"]`)),
	)
	browsertest.Screenshot(t, ctx, "2-files-menu-open")
	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/no/such/page"),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	browsertest.Screenshot(t, ctx, "3-not-found")
	if h := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); !strings.Contains(h, "find that page") {
		t.Fatalf("404 heading %q", h)
	}
}
