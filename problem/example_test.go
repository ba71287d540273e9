package problem_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-go/gatehouse/problem"
)

// An app declares its own errors the way gatehouse does, and answers every
// error, its own and gatehouse's, with problem.Write.
func Example() {
	errNoSuchOrder := problem.New("shop: no such order", problem.Error{
		Status: http.StatusNotFound, Code: "no_such_order", Message: "no such order"})

	w := httptest.NewRecorder()
	problem.Write(w, fmt.Errorf("loading order 42: %w", errNoSuchOrder))
	fmt.Println(w.Code, w.Body.String())

	fmt.Println(problem.Of(errors.New("disk on fire")).Code)
	// Output:
	// 404 {"code":"no_such_order","message":"no such order"}
	//
	// internal
}
