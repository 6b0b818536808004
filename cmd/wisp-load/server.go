package main

// sample is the server's CPU and memory at one moment.
type sample struct {
	cpu float64 // seconds, user + system
	rss int64   // bytes
}

func sampleServer(pid int) (sample, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return sample{}, err
	}
	rss, err := procRSS(pid)
	if err != nil {
		return sample{}, err
	}
	return sample{cpu: cpu, rss: rss}, nil
}

// serverReport is the server's cost, measured from /proc over the window.
type serverReport struct {
	PID             int     `json:"pid"`
	CPUSeconds      float64 `json:"cpuSeconds"`      // over the window
	CPUPercent      float64 `json:"cpuPercent"`      // of one core
	GBDelivered     float64 `json:"gbDelivered"`     // SRTP bytes the viewers received, 1e9
	CPUSecondsPerGB float64 `json:"cpuSecondsPerGB"` // the headline efficiency figure
	// CPUMicrosPerPacket is CPU per SRTP packet the viewers received: comparable between loads
	// whose packets differ in size (simulcast layers).
	CPUMicrosPerPacket float64 `json:"cpuMicrosPerPacket"`
	RSSBaseMB          float64 `json:"rssBaseMB"`      // before the first viewer
	RSSMB              float64 `json:"rssMB"`          // at the end of the window
	RSSPerViewerMB     float64 `json:"rssPerViewerMB"` // (RSS − base) / connected viewers
}

func (s *serverReport) fill(s0, s1, base sample, bytes, packets int64, viewers int, window float64) {
	s.CPUSeconds = round(s1.cpu - s0.cpu)
	if window > 0 {
		s.CPUPercent = round(100 * (s1.cpu - s0.cpu) / window)
	}
	s.GBDelivered = round(float64(bytes) / 1e9)
	if bytes > 0 {
		s.CPUSecondsPerGB = round((s1.cpu - s0.cpu) / (float64(bytes) / 1e9))
	}
	if packets > 0 {
		s.CPUMicrosPerPacket = round((s1.cpu - s0.cpu) / float64(packets) * 1e6)
	}
	s.RSSMB = mb(s1.rss)
	if viewers > 0 {
		s.RSSPerViewerMB = round(float64(s1.rss-base.rss) / float64(viewers) / 1e6)
	}
}

func mb(b int64) float64 { return round(float64(b) / 1e6) }
