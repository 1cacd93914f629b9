package browsertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// byRuleParams are the params of Network.emulateNetworkConditionsByRule in
// the shape every Chromium Debian ships accepts. Up to Chromium 148 the
// command requires a top-level offline and knows no per-rule offline; later
// versions deprecate the top-level one (still accepted) in favour of
// network.Conditions.Offline. cdproto's own params follow the newer protocol
// and drop the top-level field, which 148 refuses with "Invalid parameters".
// Chromium ignores fields it does not know, so sending both works on both.
type byRuleParams struct {
	Offline                  bool                  `json:"offline"`
	MatchedNetworkConditions []*network.Conditions `json:"matchedNetworkConditions"`
}

// emulateByRule is Network.emulateNetworkConditionsByRule with byRuleParams.
var emulateByRule = cdp.Command[byRuleParams, network.EmulateNetworkConditionsByRuleResult]{
	Method: network.CommandEmulateNetworkConditionsByRule,
}

// EmulateNetwork takes the page offline (every request fails, navigator.onLine
// is false) or back online, with uploads capped at upload bytes/s (-1: no
// limit). Downloads are never throttled.
func EmulateNetwork(ctx context.Context, offline bool, upload float64) error {
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("network.enable: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulateByRule, byRuleParams{
		Offline: offline,
		MatchedNetworkConditions: []*network.Conditions{{
			Offline: offline, UploadThroughput: upload, DownloadThroughput: -1,
		}},
	}); err != nil {
		return fmt.Errorf("%s: %w", network.CommandEmulateNetworkConditionsByRule, err)
	}
	// The rules throttle requests only; navigator.onLine, which the upload
	// page watches, follows this override.
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: offline, UploadThroughput: upload, DownloadThroughput: -1,
	}); err != nil {
		return fmt.Errorf("%s: %w", network.CommandOverrideNetworkState, err)
	}
	return nil
}

// Network is EmulateNetwork failing the test on error.
func Network(tb testing.TB, ctx context.Context, offline bool, upload float64) {
	tb.Helper()
	if err := EmulateNetwork(ctx, offline, upload); err != nil {
		tb.Fatalf("browser: emulate network: %v", err)
	}
}
