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

// QueryParams returns the names of the query parameters the route takes
// (queryParams, from the OpenAPI document).
func QueryParams(rt Route) []string {
	var out []string
	for _, p := range queryParams[rt.Method+" "+rt.Path] {
		out = append(out, p.name)
	}
	return out
}
