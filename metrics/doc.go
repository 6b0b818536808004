// Package metrics exports wisp's Prometheus metrics (prometheus/client_golang) on their own
// listener. Everything is read at scrape time: live counts from the server (Source), per-session
// counters from each live session (Session.Sample, atomic loads the forwarding core keeps anyway)
// and the final counters of sessions that ended (Observer). Nothing here runs per packet.
//
//	metrics.go   Metrics: the registry, the event counters (created, rejected) and Handler
//	source.go    what the metrics read: Source, Session, Sample, StreamState
//	ledger.go    the accounting that keeps every counter monotonic across session and stream ends
//	collect.go   the scrape: families, stream labels (at most MaxStreams, the rest "_other")
//	server.go    Serve: the /metrics listener
package metrics
