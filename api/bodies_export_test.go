package api

// TakesBody reports whether the route reads a request body (takesBody).
func TakesBody(rt Route) bool { return takesBody[rt.Method+" "+rt.Path] }

// BodyRoutes returns the routes takesBody names, for a test that each is a
// route.
func BodyRoutes() []string {
	var out []string
	for k := range takesBody {
		out = append(out, k)
	}
	return out
}
