package main

import "net/netip"

// throttleKey is the client address as every per-IP throttle counts it:
// an IPv4 address (IPv4-mapped IPv6 included) on its own, an IPv6 address
// by its /64, since one customer line or host usually gets a whole /64 and
// could otherwise rotate through addresses to dodge a limit. A value that
// is not an address (a test's or a proxy's oddity) is used as it is.
func throttleKey(clientIP string) string {
	ip, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
