module github.com/vb365-exporter/vb365_exporter

go 1.24.0

require (
	github.com/go-kit/log v0.2.1
	golang.org/x/sys v0.41.0
)

require github.com/go-logfmt/logfmt v0.5.1 // indirect
