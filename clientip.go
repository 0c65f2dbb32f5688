package otelbearer

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/realclientip/realclientip-go"
	"go.opentelemetry.io/otel"
)

// newClientIP returns how client.address is found: the TCP peer, or with
// trusted proxies the rightmost untrusted X-Forwarded-For address when the
// peer is a trusted proxy.
func newClientIP(trusted []netip.Prefix) func(*http.Request) string {
	if len(trusted) == 0 {
		return func(r *http.Request) string { return peerHost(r.RemoteAddr) }
	}
	nets := make([]net.IPNet, 0, len(trusted))
	for _, p := range trusted {
		p = p.Masked()
		nets = append(nets, net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	strategy, err := realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", nets)
	if err != nil { // only for an invalid header name, which is fixed here
		otel.Handle(err)
		return func(r *http.Request) string { return peerHost(r.RemoteAddr) }
	}
	return func(r *http.Request) string {
		peer := peerHost(r.RemoteAddr)
		if a, err := netip.ParseAddr(peer); err == nil {
			a = a.Unmap()
			for _, p := range trusted {
				if p.Contains(a) {
					if ip := strategy.ClientIP(r.Header, r.RemoteAddr); ip != "" {
						return ip
					}
					break
				}
			}
		}
		return peer
	}
}

// peerHost strips the port from a RemoteAddr.
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
