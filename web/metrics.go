package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series served on METRICS_ADDR (never through
// the load balancer). docs/operations.md says what each means and which
// alarm watches it. A registry of our own, not the global default one.
type metrics struct {
	reg          *prometheus.Registry
	httpDuration *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	uploads      *prometheus.CounterVec
	uploadBytes  prometheus.Counter
	shareEvents  *prometheus.CounterVec
	// requestEvents count the uploaders' side of upload requests.
	requestEvents *prometheus.CounterVec
	logins        *prometheus.CounterVec
	jobRuns       *prometheus.CounterVec
	jobDuration   *prometheus.HistogramVec
}

func newMetrics(pool *pgxpool.Pool) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "weupload_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status class.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code_class"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status class.",
		}, []string{"route", "method", "code_class"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_uploads_total",
			Help: "Upload lifecycle events: initiated, completed, failed (verification mismatch), aborted (by the uploader), expired (swept).",
		}, []string{"event"}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weupload_upload_bytes_completed_total",
			Help: "Bytes of uploads that completed and were verified.",
		}),
		shareEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_share_link_events_total",
			Help: "Share-link landing page views and issued downloads.",
		}, []string{"event"}),
		requestEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_upload_request_events_total",
			Help: "Upload-request (reverse share) uploader page views, and uploads initiated, completed and aborted through them.",
		}, []string{"event"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_login_events_total",
			Help: "Failed logins (bad credentials) and throttled attempts.",
		}, []string{"event"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weupload_job_runs_total",
			Help: "Background job runs finished on this instance, by job kind and outcome (completed, retried, discarded, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "weupload_job_duration_seconds",
			Help:    "Run time of background jobs, by job kind and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
		}, []string{"kind", "outcome"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "weupload_build_info",
		Help: "Always 1; the labels carry the running version and commit.",
	}, []string{"version", "commit"})
	build.WithLabelValues(version, commit).Set(1)

	poolGauge := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(pool.Stat()) })
	}
	m.reg.MustRegister(
		m.httpDuration, m.httpRequests, m.uploads, m.uploadBytes, m.shareEvents, m.requestEvents, m.logins, m.jobRuns, m.jobDuration, build,
		poolGauge("weupload_db_pool_acquired_conns", "Connections in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		poolGauge("weupload_db_pool_idle_conns", "Idle connections.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		poolGauge("weupload_db_pool_max_conns", "Pool size limit.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "weupload_db_pool_empty_acquire_total", Help: "Acquires that had to wait for a connection."},
			func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "weupload_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a connection."},
			func() float64 { return pool.Stat().AcquireDuration().Seconds() }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// observeUpload counts an upload state change (files.Config.Observe), and
// the bytes of completed ones.
func (m *metrics) observeUpload(event string, size int64) {
	m.uploads.WithLabelValues(event).Inc()
	if event == "completed" {
		m.uploadBytes.Add(float64(size))
	}
}

// observeJob records one finished job run (jobs.Config.Observe).
func (m *metrics) observeJob(kind, outcome string, d time.Duration) {
	m.jobRuns.WithLabelValues(kind, outcome).Inc()
	m.jobDuration.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// observeRequest records one answered request.
func (m *metrics) observeRequest(route, method string, status int, seconds float64) {
	class := strconv.Itoa(status/100) + "xx"
	m.httpDuration.WithLabelValues(route, method, class).Observe(seconds)
	m.httpRequests.WithLabelValues(route, method, class).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
