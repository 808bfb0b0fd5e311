package mail

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// knownFields are the names a template may read: the fields and methods of
// View and of every type it holds (Data, brand.Brand, KeyNotice,
// LoginNotice, time.Time…), and of Action, what a button receives.
var knownFields = func() map[string]bool {
	known := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if seen[t] {
			return
		}
		seen[t] = true
		for i := range reflect.PointerTo(t).NumMethod() {
			known[reflect.PointerTo(t).Method(i).Name] = true
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() {
				known[f.Name] = true
				add(f.Type)
			}
		}
	}
	add(reflect.TypeFor[View]())
	add(reflect.TypeFor[Action]())
	return known
}()

// checkFields refuses a template that reads a field no email data has
// ({{.RecipientNme}}), wherever it stands: in a branch the start's sample
// emails never take, it would otherwise fail on a customer's email. The
// error names the file, line and column.
func checkFields(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	var bad parse.Node
	var badName string
	var walk func(n parse.Node)
	check := func(n parse.Node, names []string) {
		for _, name := range names {
			if bad == nil && !knownFields[name] {
				bad, badName = n, name
			}
		}
	}
	walk = func(n parse.Node) {
		if bad != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		case *parse.FieldNode:
			check(n, n.Ident)
		case *parse.ChainNode:
			walk(n.Node)
			check(n, n.Field)
		case *parse.VariableNode:
			if len(n.Ident) > 1 {
				check(n, n.Ident[1:])
			}
		}
	}
	walk(tree.Root)
	if bad != nil {
		location, _ := tree.ErrorContext(bad)
		return fmt.Errorf("mail templates: %s: no variable %q in an email's data (docs/branding.md lists them)", location, badName)
	}
	return nil
}
