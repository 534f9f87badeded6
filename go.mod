module github.com/vb365-exporter/vb365_exporter

go 1.24.0

require (
	github.com/alecthomas/kingpin/v2 v2.4.0
	github.com/go-kit/log v0.2.1
)

require (
	github.com/alecthomas/units v0.0.0-20211218093645-b94a6e3cc137 // indirect
	github.com/go-logfmt/logfmt v0.5.1 // indirect
	github.com/xhit/go-str2duration/v2 v2.1.0 // indirect
)
