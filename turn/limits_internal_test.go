package turn

import (
	"net"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A relay over its bitrate drops what is over, both ways, and counts it;
// within it nothing is lost.
func TestLimitedConnDropsOverBudget(t *testing.T) {
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var drops int
	// 10 packets' worth of tokens and no refill to speak of.
	c := &limitedConn{PacketConn: a, dropped: func() { drops++ },
		in: rate.NewLimiter(rate.Limit(1), 10*1000), out: rate.NewLimiter(rate.Limit(1), 10*1000)}
	pkt := make([]byte, 1000)
	for range 15 {
		if n, err := c.WriteTo(pkt, b.LocalAddr()); err != nil || n != len(pkt) {
			t.Fatalf("write: %d %v", n, err)
		}
	}
	if drops != 5 {
		t.Fatalf("%d of 15 writes dropped, want 5 over a 10-packet budget", drops)
	}
	got := 0
	_ = b.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 2000)
	for {
		if _, _, err := b.ReadFrom(buf); err != nil {
			break
		}
		if got++; got == 10 {
			break
		}
	}
	if got != 10 {
		t.Errorf("peer got %d packets, want the 10 within budget", got)
	}
}
