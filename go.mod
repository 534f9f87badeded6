module github.com/vb365-exporter/vb365_exporter

go 1.24.0
