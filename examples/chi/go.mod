module github.com/gatehouse-go/gatehouse/examples/chi

go 1.26.8

require (
	github.com/gatehouse-go/gatehouse v0.0.0
	github.com/go-chi/chi/v5 v5.5.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/gorilla/sessions v1.4.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/gatehouse-go/gatehouse => ../..
