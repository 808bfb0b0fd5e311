package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

// Pool is one of the database's connection pools and its figures.
type Pool struct {
	Name  string
	Stats sql.DBStats
}

// Sources are where the metrics read what the use cases counted. A nil
// source leaves its metrics out.
type Sources struct {
	Team     func() team.Stats
	Identity func() identity.Stats
	// Emails returns the emails sent, the attempts that failed and will be
	// retried, and the emails abandoned, since the start.
	Emails func() (sent, failed, abandoned uint64)
	// Webhooks returns the webhook deliveries delivered, the attempts that
	// failed and will be retried, and the deliveries abandoned.
	Webhooks func() (delivered, failed, abandoned uint64)
	// Backlog returns the emails waiting to be sent and when the oldest
	// was queued (zero: none).
	Backlog func(ctx context.Context) (int, time.Time, error)
	Pools   func() []Pool
	Now     func() time.Time
}

// Metrics is the service's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	mu       sync.Mutex // serialises the additions to observers
	// observers maps a route and status to its histogram: see Observe.
	observers atomic.Pointer[map[routeStatus]prometheus.Observer]
}

type routeStatus struct {
	route  string
	status int
}

// requestBuckets are the latency histogram's bounds, in seconds: from half
// a millisecond (a check) to ten seconds (a request's longest write).
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns the metrics reading src.
func New(src Sources) *Metrics {
	if src.Now == nil {
		src.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "equipe_http_request_duration_seconds",
		Help:    "HTTP requests answered, by route pattern and status, and how long they took (from the first byte read to the last written).",
		Buckets: requestBuckets,
	}, []string{"route", "status"})
	empty := map[routeStatus]prometheus.Observer{}
	m.observers.Store(&empty)
	m.reg.MustRegister(m.requests,
		// The default Go metrics, and the scheduler's latencies: how long
		// goroutines waited for a CPU, where a busy machine shows first.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{src: src})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Observe counts a request of route answered with status after d.
//
// What it saves: the request histogram's labels are looked up in a map
// that is only ever replaced, never changed, read without a lock: the
// check API's calls (tens of thousands a second on 2 cores) share no lock
// and allocate nothing; prometheus' own lookup by label values takes a
// lock and hashes the values on every call. A new route and status,
// rare, copies the map.
func (m *Metrics) Observe(route string, status int, d time.Duration) {
	k := routeStatus{route, status}
	o, ok := (*m.observers.Load())[k]
	if !ok {
		o = m.observer(k)
	}
	o.Observe(d.Seconds())
}

func (m *Metrics) observer(k routeStatus) prometheus.Observer {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.observers.Load()
	if o, ok := old[k]; ok {
		return o
	}
	o := m.requests.WithLabelValues(k.route, strconv.Itoa(k.status))
	next := make(map[routeStatus]prometheus.Observer, len(old)+1)
	for kk, v := range old {
		next[kk] = v
	}
	next[k] = o
	m.observers.Store(&next)
	return o
}

// collector reads the sources when the metrics are scraped.
type collector struct{ src Sources }

var (
	checksDesc = prometheus.NewDesc("equipe_checks_total",
		"Permission checks answered (the check API, its batches, and every other caller of the check), by decision and reason.",
		[]string{"decision", "reason"}, nil)
	loginsDesc = prometheus.NewDesc("equipe_logins_total",
		"Login steps, by step (password, second_factor) and outcome (succeeded, second_step, failed, throttled, error).",
		[]string{"step", "outcome"}, nil)
	outboxDesc = prometheus.NewDesc("equipe_outbox_emails",
		"Emails waiting in the outbox to be sent (queued, or being sent).", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("equipe_outbox_oldest_email_age_seconds",
		"Age of the oldest email waiting to be sent; 0 when none waits.", nil, nil)
	emailsDesc = prometheus.NewDesc("equipe_email_deliveries_total",
		"Email delivery attempts of this process's worker, by result (sent; failed, to be retried; abandoned).",
		[]string{"result"}, nil)
	webhooksDesc = prometheus.NewDesc("equipe_webhook_deliveries_total",
		"Webhook delivery attempts of this process's worker, by result (delivered; failed, to be retried; abandoned).",
		[]string{"result"}, nil)
	poolOpenDesc = prometheus.NewDesc("equipe_db_connections",
		"Database connections of a pool, by state (in_use, idle).", []string{"pool", "state"}, nil)
	poolMaxDesc = prometheus.NewDesc("equipe_db_connections_max",
		"Most connections a pool may open.", []string{"pool"}, nil)
	poolWaitsDesc = prometheus.NewDesc("equipe_db_connection_waits_total",
		"Times a query waited for a free connection of the pool.", []string{"pool"}, nil)
	poolWaitedDesc = prometheus.NewDesc("equipe_db_connection_wait_seconds_total",
		"Time queries spent waiting for a free connection of the pool.", []string{"pool"}, nil)
	cacheEntriesDesc = prometheus.NewDesc("equipe_cache_entries",
		"Entries in the permission cache (compiled members, accounts, API keys, key creators).", nil, nil)
	cacheLookupsDesc = prometheus.NewDesc("equipe_cache_lookups_total",
		"Lookups in the permission cache, by result: hit (answered from memory) or miss (read from the database).",
		[]string{"result"}, nil)
	cacheBytesDesc = prometheus.NewDesc("equipe_cache_bytes",
		"Memory the permission cache's entries take, about, in bytes (at most EQUIPE_CACHE_MB MiB).", nil, nil)
	cacheEvictionsDesc = prometheus.NewDesc("equipe_cache_evictions_total",
		"Entries the permission cache let go to make room for others, the least used lately first.", nil, nil)
	scrapeErrorsDesc = prometheus.NewDesc("equipe_metrics_source_errors",
		"1 when a source of the metrics could not be read during this scrape (the outbox: the database unreachable).",
		[]string{"source"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{checksDesc, loginsDesc, outboxDesc, outboxAgeDesc, emailsDesc, webhooksDesc, poolOpenDesc,
		poolMaxDesc, poolWaitsDesc, poolWaitedDesc, cacheEntriesDesc, cacheLookupsDesc, cacheBytesDesc, cacheEvictionsDesc, scrapeErrorsDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Team != nil {
		st := c.src.Team()
		for _, r := range access.Reasons {
			decision := "denied"
			if r == access.Allowed || r == access.AllowedScopeAll || r == access.AllowedScopeOwned ||
				r == access.AllowedScopeOwnedOrUnassigned {
				decision = "allowed"
			}
			counter(checksDesc, float64(st.Checks[r]), decision, string(r))
		}
		gauge(cacheEntriesDesc, float64(st.CacheEntries))
		counter(cacheLookupsDesc, float64(st.CacheHits), "hit")
		counter(cacheLookupsDesc, float64(st.CacheMisses), "miss")
		gauge(cacheBytesDesc, float64(st.CacheBytes))
		counter(cacheEvictionsDesc, float64(st.CacheEvictions))
	}
	if c.src.Identity != nil {
		st := c.src.Identity()
		for i, step := range identity.LoginSteps {
			for j, outcome := range identity.LoginOutcomes {
				counter(loginsDesc, float64(st.Logins[i][j]), step, outcome)
			}
		}
	}
	if c.src.Emails != nil {
		sent, failed, abandoned := c.src.Emails()
		counter(emailsDesc, float64(sent), "sent")
		counter(emailsDesc, float64(failed), "failed")
		counter(emailsDesc, float64(abandoned), "abandoned")
	}
	if c.src.Webhooks != nil {
		delivered, failed, abandoned := c.src.Webhooks()
		counter(webhooksDesc, float64(delivered), "delivered")
		counter(webhooksDesc, float64(failed), "failed")
		counter(webhooksDesc, float64(abandoned), "abandoned")
	}
	if c.src.Backlog != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, oldest, err := c.src.Backlog(ctx)
		cancel()
		if err != nil {
			gauge(scrapeErrorsDesc, 1, "outbox")
		} else {
			gauge(scrapeErrorsDesc, 0, "outbox")
			gauge(outboxDesc, float64(n))
			age := 0.0
			if !oldest.IsZero() {
				age = max(0, c.src.Now().Sub(oldest).Seconds())
			}
			gauge(outboxAgeDesc, age)
		}
	}
	if c.src.Pools != nil {
		for _, p := range c.src.Pools() {
			gauge(poolOpenDesc, float64(p.Stats.InUse), p.Name, "in_use")
			gauge(poolOpenDesc, float64(p.Stats.Idle), p.Name, "idle")
			gauge(poolMaxDesc, float64(p.Stats.MaxOpenConnections), p.Name)
			counter(poolWaitsDesc, float64(p.Stats.WaitCount), p.Name)
			counter(poolWaitedDesc, p.Stats.WaitDuration.Seconds(), p.Name)
		}
	}
}
