package brand

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// An SVG logo is checked as the browser will read it: parsed as XML, each
// element and attribute judged by its name in any namespace, entities
// expanded, and links read as a browser reads a URL. Looking for strings
// in the file's text let through what XML writes another way:
// <svg:script>, href="javascript&#58;…", an entity holding either, an
// animation that sets onclick.

// svgForbidden are the elements that run or embed something.
var svgForbidden = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "embed": true,
	"object": true, "handler": true, "listener": true, "audio": true, "video": true}

// svgAnimations set another attribute, named by attributeName, over time.
var svgAnimations = map[string]bool{"set": true, "animate": true, "animatemotion": true, "animatetransform": true,
	"animatecolor": true}

// svgEntity is a declaration of an internal entity in a DOCTYPE, as
// illustration programs write them (<!ENTITY ns_svg "http://…">).
var svgEntity = regexp.MustCompile(`^<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>`)

// svgComment is a comment in a DOCTYPE's declarations.
var svgComment = regexp.MustCompile(`^<!--(?s:.*?)-->`)

// checkSVG returns the problem of an SVG file that is not one (an XML
// document whose one root is <svg>), or that could run or load anything:
// a forbidden element, an event attribute, a link that is not to a part of
// the file or an image held in it, an animation setting either, a
// stylesheet instruction, an entity that is external or holds markup.
func checkSVG(data []byte) error {
	notSVG := problem("brand.image_kind", nil, "the file is neither an SVG nor a PNG image")
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// The names and links checked are ASCII whatever the encoding.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	d.Entity = map[string]string{}
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if roots != 1 {
				return notSVG
			}
			return nil
		}
		if err != nil {
			if p, ok := err.(*Problem); ok {
				return p
			}
			return notSVG
		}
		switch t := tok.(type) {
		case xml.Directive:
			if err := svgDoctype(t, d.Entity); err != nil {
				return err
			}
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml-stylesheet") {
				return unsafeSVG("<?xml-stylesheet", "an instruction to load a stylesheet (<?xml-stylesheet?>)")
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return notSVG
			}
		case xml.EndElement:
			depth--
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if depth == 0 {
				roots++
				if roots > 1 || name != "svg" {
					return notSVG
				}
			}
			depth++
			if svgForbidden[name] {
				return unsafeSVG(name, name+">")
			}
			for _, a := range t.Attr {
				if err := svgAttr(name, a); err != nil {
					return err
				}
			}
		}
	}
}

// svgAttr judges an attribute of the element named el.
func svgAttr(el string, a xml.Attr) error {
	name := strings.ToLower(a.Name.Local)
	if a.Name.Space == "xmlns" || (a.Name.Space == "" && name == "xmlns") {
		return nil // a namespace's name is no link
	}
	if strings.HasPrefix(name, "on") {
		return unsafeSVG("onload=", "an event attribute ("+name+"=…)")
	}
	if svgAnimations[el] && name == "attributename" {
		target := strings.ToLower(strings.TrimSpace(a.Value))
		if i := strings.LastIndexByte(target, ':'); i >= 0 {
			target = target[i+1:]
		}
		if strings.HasPrefix(target, "on") || target == "href" || target == "src" {
			return unsafeSVG(target, "an animation that sets "+target)
		}
	}
	if name == "href" || name == "src" {
		return svgLink(a.Value)
	}
	return nil
}

// svgLink refuses a link that is neither to a part of the file (#id) nor
// an image the file holds (data:image/png, jpeg, gif, webp), read as a
// browser reads a URL: spaces around it and tabs and line breaks in it
// ignored.
func svgLink(v string) error {
	u := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.TrimFunc(v, func(r rune) bool { return r <= ' ' }))
	lower := strings.ToLower(u)
	switch {
	case u == "", strings.HasPrefix(u, "#"):
		return nil
	case strings.HasPrefix(lower, "javascript:"):
		return unsafeSVG("javascript:", "a javascript: link")
	}
	for _, t := range []string{"png", "jpeg", "gif", "webp"} {
		if strings.HasPrefix(lower, "data:image/"+t+";") || strings.HasPrefix(lower, "data:image/"+t+",") {
			return nil
		}
	}
	if len(u) > 80 {
		u = u[:80] + "…"
	}
	return problem("brand.image_external", map[string]any{"link": u},
		"the SVG links to %s: a logo must hold all it shows", u)
}

// svgDoctype checks a DOCTYPE: its declarations may only be internal
// entities of plain text, which it puts in entities for the decoder to
// expand as the browser will.
func svgDoctype(dir xml.Directive, entities map[string]string) error {
	s := string(dir)
	if !strings.HasPrefix(s, "DOCTYPE") {
		return nil
	}
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return nil
	}
	subset := strings.TrimSpace(s[open+1 : strings.LastIndexByte(s, ']')+1])
	subset = strings.TrimSuffix(subset, "]")
	bad := unsafeSVG("<!ENTITY", "a declaration (<!ENTITY) that is not plain text")
	for subset = strings.TrimSpace(subset); subset != ""; subset = strings.TrimSpace(subset) {
		if m := svgComment.FindString(subset); m != "" {
			subset = subset[len(m):]
			continue
		}
		m := svgEntity.FindStringSubmatch(subset)
		if m == nil {
			return bad
		}
		value := m[2] + m[3]
		if strings.ContainsAny(value, "<&%") {
			return bad
		}
		entities[m[1]] = value
		subset = subset[len(m[0]):]
	}
	return nil
}

// unsafeSVG is the problem of an SVG that could run something: what is
// the key's argument, said the message.
func unsafeSVG(what, said string) *Problem {
	return problem("brand.image_unsafe", map[string]any{"what": what}, "the SVG holds %s: a logo must not run anything", said)
}
