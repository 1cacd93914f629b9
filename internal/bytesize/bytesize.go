// Package bytesize formats and parses byte counts the way people read and
// type them (1.5 GiB, 64MiB). The views, the services' messages and the
// configuration share it, so a size reads the same everywhere.
package bytesize

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format formats a size for messages: 1.5 GiB, 200 MiB, 12 bytes.
func Format(n int64) string { return FormatRounded(n, math.Round) }

// FormatRounded is Format rounding to one decimal with round: a refused
// upload shows what it needs rounded up (math.Ceil) and the free space
// rounded down (math.Floor), so the two never look equal ("needs 3 MiB,
// 3 MiB free").
func FormatRounded(n int64, round func(float64) float64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := round(float64(n)/float64(div)*10) / 10
	if v >= unit && exp < 4 { // 1023.95 KiB rounded up is 1 MiB
		v, exp = 1, exp+1
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
}

// Parse parses a byte size with an optional unit: 1024, 64KiB, 5MiB, 5GiB,
// 1TiB, or decimal 10MB, 5GB. Units are case-insensitive.
func Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("want a size such as 1048576, 64MiB or 5GiB")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, errors.New("size is too large")
	}
	units := map[string]int64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}
	mult, ok := units[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q; use B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)", s[i:])
	}
	if n > (1<<62)/mult {
		return 0, errors.New("size is too large")
	}
	return n * mult, nil
}
