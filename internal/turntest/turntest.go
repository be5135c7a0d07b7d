// Package turntest is a minimal TURN client for tests. It speaks just
// enough of RFC 8656 over UDP to allocate, create permissions and bind
// channels with long-term credentials, and it returns the server's error
// codes: pion's client hides them and binds channels on its own schedule,
// and tests need to see exactly what a server (the embedded one or coturn)
// refuses.
package turntest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
)

// ErrorResponse is a STUN error answer.
type ErrorResponse struct {
	Method stun.Method
	Code   stun.ErrorCode
	Reason string
}

func (e *ErrorResponse) Error() string {
	return fmt.Sprintf("turntest: %s refused: %d %s", e.Method, e.Code, e.Reason)
}

// Code returns the STUN error code of err, or 0 when it is not an
// ErrorResponse.
func Code(err error) stun.ErrorCode {
	var e *ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Client is one UDP 5-tuple to a TURN server.
type Client struct {
	conn     *net.UDPConn
	user     string
	password string
	realm    string
	nonce    string
	// Timeout bounds each request (one retransmission halfway).
	Timeout time.Duration
}

// Dial opens a client to server (host:port) from a free local port, with
// the credentials it authenticates with.
func Dial(server, user, password string) (*Client, error) {
	raddr, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, user: user, password: password, Timeout: 2 * time.Second}, nil
}

// Close closes the socket; the server's allocation times out.
func (c *Client) Close() error { return c.conn.Close() }

// Binding sends a STUN binding request and returns the mapped address.
func (c *Client) Binding() (netip.AddrPort, error) {
	res, err := c.roundTrip(stun.BindingRequest)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(res); err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(xa.IP, xa.Port), nil
}

// Allocate asks for a UDP relay and returns its address.
func (c *Client) Allocate() (netip.AddrPort, error) {
	res, err := c.authed(stun.MethodAllocate,
		stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}})
	if err != nil {
		return netip.AddrPort{}, err
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFromAs(res, stun.AttrXORRelayedAddress); err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(xa.IP, xa.Port), nil
}

// CreatePermission asks to relay to and from peer.
func (c *Client) CreatePermission(peer netip.Addr) error {
	_, err := c.authed(stun.MethodCreatePermission, peerAttr(netip.AddrPortFrom(peer, 9)))
	return err
}

// ChannelBind binds channel (0x4000-0x7FFF) to peer.
func (c *Client) ChannelBind(peer netip.AddrPort, channel uint16) error {
	_, err := c.authed(stun.MethodChannelBind, peerAttr(peer),
		stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{byte(channel >> 8), byte(channel), 0, 0}})
	return err
}

type setterFunc func(*stun.Message) error

func (f setterFunc) AddTo(m *stun.Message) error { return f(m) }

func peerAttr(peer netip.AddrPort) stun.Setter {
	return setterFunc(func(m *stun.Message) error {
		return stun.XORMappedAddress{IP: peer.Addr().AsSlice(), Port: int(peer.Port())}.AddToAs(m, stun.AttrXORPeerAddress)
	})
}

// authed sends an authenticated request, learning the realm and nonce
// from the server's 401 or 438 first.
func (c *Client) authed(method stun.Method, attrs ...stun.Setter) (*stun.Message, error) {
	for range 3 {
		setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
		setters = append(setters, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.user, c.realm, c.password))
		}
		setters = append(setters, stun.Fingerprint)
		res, err := c.roundTrip(setters...)
		var er *ErrorResponse
		if !errors.As(err, &er) {
			return res, err
		}
		stale := er.Code == stun.CodeStaleNonce || (er.Code == stun.CodeUnauthorized && c.nonce == "")
		if !stale {
			return nil, err
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil {
			return nil, err
		}
		c.realm, c.nonce = realm.String(), nonce.String()
	}
	return nil, fmt.Errorf("turntest: %s: no usable nonce", method)
}

// roundTrip sends a request and waits for its answer; an error answer
// comes back as *ErrorResponse together with the message.
func (c *Client) roundTrip(setters ...stun.Setter) (*stun.Message, error) {
	req, err := stun.Build(setters...)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(c.Timeout)
	for try := range 2 {
		if _, err := c.conn.Write(req.Raw); err != nil {
			return nil, err
		}
		wait := deadline
		if try == 0 {
			wait = time.Now().Add(c.Timeout / 2)
		}
		if err := c.conn.SetReadDeadline(wait); err != nil {
			return nil, err
		}
		for {
			n, err := c.conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return nil, err
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() != nil || res.TransactionID != req.TransactionID {
				continue
			}
			if res.Type.Class == stun.ClassErrorResponse {
				var code stun.ErrorCodeAttribute
				_ = code.GetFrom(res)
				return res, &ErrorResponse{Method: req.Type.Method, Code: code.Code, Reason: string(code.Reason)}
			}
			return res, nil
		}
	}
	return nil, fmt.Errorf("turntest: %s: no answer from %s within %s", req.Type.Method, c.conn.RemoteAddr(), c.Timeout)
}

func addrPort(ip net.IP, port int) netip.AddrPort {
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}
