package scan

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Clamd talks to a ClamAV daemon over its socket protocol. It holds no
// connection: each call dials, so a restarted daemon is picked up at once.
type Clamd struct {
	// Addr is "host:port" (TCP) or "unix:/path" (or an absolute path) for
	// clamd's local socket.
	Addr string
	// Timeout bounds each step: the dial, every chunk written, and the wait
	// for the verdict after the last one (clamd scans then). Zero: 2 min.
	Timeout time.Duration
}

// chunkSize is the INSTREAM chunk: one buffer of this size is all the
// memory a scan holds, whatever the object's size.
const chunkSize = 64 << 10

// Verdict is what clamd said of a stream.
type Verdict struct {
	// Infected is true when a signature matched; Signature names it.
	Infected  bool
	Signature string
	// TooLarge is true when the stream passed clamd's StreamMaxLength:
	// it was not scanned.
	TooLarge bool
}

// ErrUnreachable wraps failures to talk to clamd (dial, write, read,
// timeout): the scan should be tried again later.
var ErrUnreachable = errors.New("scan: clamd unreachable")

func (c *Clamd) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 2 * time.Minute
	}
	return c.Timeout
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	network, addr := "tcp", c.Addr
	if a, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", a
	} else if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	d := net.Dialer{Timeout: c.timeout()}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	// Closing the connection ends any read or write blocked on it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return &stoppingConn{Conn: conn, stop: stop}, nil
}

type stoppingConn struct {
	net.Conn
	stop func() bool
}

func (c *stoppingConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// Ping checks that clamd answers.
func (c *Clamd) Ping(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(c.timeout()))
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("%w: unexpected reply %q", ErrUnreachable, reply)
	}
	return nil
}

// Scan streams r to clamd (INSTREAM: chunks with a 4-byte big-endian
// length, then a zero length) through one fixed buffer and returns its
// verdict. Errors wrap ErrUnreachable when clamd could not be used, or are
// r's own errors (wrapped as they are, so blob errors keep their meaning).
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (Verdict, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return Verdict{}, err
	}
	defer conn.Close()
	t := c.timeout()
	_ = conn.SetDeadline(time.Now().Add(t))
	if _, err := conn.Write([]byte("zINSTREAM\x00")); err != nil {
		return Verdict{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	buf := make([]byte, 4+chunkSize)
	for {
		n, rerr := io.ReadFull(r, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf, uint32(n))
			_ = conn.SetDeadline(time.Now().Add(t))
			if _, err := conn.Write(buf[:4+n]); err != nil {
				// clamd closes the stream when it passes StreamMaxLength
				// and says so first: read what it said.
				if reply, rerr := readReply(conn); rerr == nil {
					return verdict(reply)
				}
				return Verdict{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return Verdict{}, fmt.Errorf("scan: read object: %w", rerr)
		}
	}
	_ = conn.SetDeadline(time.Now().Add(t))
	if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
		if reply, rerr := readReply(conn); rerr == nil {
			return verdict(reply)
		}
		return Verdict{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return Verdict{}, err
	}
	return verdict(reply)
}

// readReply reads clamd's NUL-terminated answer (at most 4 KiB).
func readReply(conn net.Conn) (string, error) {
	b, err := bufio.NewReaderSize(conn, 4<<10).ReadSlice(0)
	if err == nil {
		b = b[:len(b)-1]
	} else if len(b) > 0 && (err == io.EOF || errors.Is(err, net.ErrClosed)) {
		err = nil
	}
	if err != nil || len(b) == 0 {
		return "", fmt.Errorf("%w: no reply: %v", ErrUnreachable, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// verdict parses "stream: OK", "stream: <signature> FOUND" and
// "INSTREAM size limit exceeded. ERROR"; any other answer is an error
// (clamd out of memory, a database reload): tried again later.
func verdict(reply string) (Verdict, error) {
	switch {
	case reply == "stream: OK":
		return Verdict{}, nil
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		sig := strings.TrimSuffix(strings.TrimPrefix(reply, "stream: "), " FOUND")
		return Verdict{Infected: true, Signature: sig}, nil
	case strings.Contains(reply, "size limit exceeded"):
		return Verdict{TooLarge: true}, nil
	}
	return Verdict{}, fmt.Errorf("%w: clamd answered %q", ErrUnreachable, reply)
}
