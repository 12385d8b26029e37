package rtcbot

import "sync"

// ConnectionSet holds the open connections of a robot that serves many
// peers, as in RTCBot's "multiple connections" tutorial: a connection
// leaves the set when it closes, Put sends a message to every one, and Close
// closes them all and refuses new ones (so a robot shutting down cannot
// gain a connection it will never close). The zero value is an empty set.
//
//	var viewers rtcbot.ConnectionSet
//	http.Handle("/connect", rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
//		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{})
//		if err != nil {
//			return nil, err
//		}
//		conn.Video().PutSubscription(cam) // one encoder for every viewer
//		return conn, viewers.Add(conn)
//	}))
//	defer viewers.Close()
type ConnectionSet struct {
	mu       sync.Mutex
	open     map[*Connection]struct{}
	closed   bool
	onChange []func(open int)
}

// Add puts conn in the set until it closes. If the set is closed, it closes
// conn and returns ErrClosed.
func (s *ConnectionSet) Add(conn *Connection) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return ErrClosed
	}
	if s.open == nil {
		s.open = make(map[*Connection]struct{})
	}
	s.open[conn] = struct{}{}
	n, fs := len(s.open), s.onChange
	s.mu.Unlock()
	for _, f := range fs {
		f(n)
	}
	conn.OnClose(func() { s.remove(conn) })
	return nil
}

func (s *ConnectionSet) remove(conn *Connection) {
	s.mu.Lock()
	if _, ok := s.open[conn]; !ok {
		s.mu.Unlock()
		return
	}
	delete(s.open, conn)
	n, fs := len(s.open), s.onChange
	s.mu.Unlock()
	for _, f := range fs {
		f(n)
	}
}

// OnChange runs f with the number of open connections each time one is
// added or leaves, on the goroutine that added or closed it. When
// connections come and go at the same moment, calls may arrive out of order;
// Len tells the current number.
func (s *ConnectionSet) OnChange(f func(open int)) {
	s.mu.Lock()
	s.onChange = append(s.onChange, f)
	s.mu.Unlock()
}

// Len returns the number of open connections.
func (s *ConnectionSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// Connections returns the open connections.
func (s *ConnectionSet) Connections() []*Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*Connection, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	return conns
}

// Put sends msg on the default channel of every open connection.
func (s *ConnectionSet) Put(msg any) {
	for _, c := range s.Connections() {
		c.Put(msg)
	}
}

// Close closes every open connection, waiting for each, and makes Add
// refuse new ones.
func (s *ConnectionSet) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, c := range s.Connections() {
		c.Close()
	}
	return nil
}
