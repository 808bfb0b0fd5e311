// Package brand holds the look a vendor gives the instance: the product's
// name, its logo and favicon, its two colours, where its customers get
// support and its legal pages. Pages and emails read one Brand, made once
// at start; a Brand that would give unreadable text (white on a pale
// colour) is refused then, not discovered by a customer.
package brand
