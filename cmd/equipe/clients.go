package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/team"
)

const clientsUsage = `Usage:
  equipe clients create --name N --redirect-uri URI [--redirect-uri URI…] [--post-logout-uri URI…]
                        [--backchannel-logout-uri URI] [--public] [--first-party] [--scopes a,b] [settings]
  equipe clients update CLIENT_ID [--name N] [--redirect-uri URI…] [--post-logout-uri URI…]
                        [--backchannel-logout-uri URI] [--first-party=true|false] [--scopes a,b] [settings]
  equipe clients list [settings]
  equipe clients rotate-secret CLIENT_ID [settings]
  equipe clients delete CLIENT_ID [settings]

OpenID Connect clients of the instance (docs/oidc.md). A confidential client's
secret is printed once by create and rotate-secret: equipe keeps only its hash.
`

// listFlag collects a flag given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// clients registers and manages the instance's OpenID Connect clients as
// the operator.
func clients(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, clientsUsage)
		if len(args) == 0 {
			return errors.New("no clients command given")
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("clients "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clientsUsage) }
	var redirects, postLogout listFlag
	name := fs.String("name", "", "the client's name, shown to people when they consent")
	fs.Var(&redirects, "redirect-uri", "a redirect URI, matched exactly (repeat for several)")
	fs.Var(&postLogout, "post-logout-uri", "a post-logout redirect URI (repeat for several)")
	backchannel := fs.String("backchannel-logout-uri", "", "where logout tokens are posted")
	public := fs.Bool("public", false, "a public client: no secret, PKCE required")
	firstParty := fs.Bool("first-party", false, "a first-party client: people are not asked to consent")
	scopes := fs.String("scopes", "", "scopes it may ask besides openid, comma-separated (default profile,email)")
	// rotate-secret and delete take the client's ID first; the settings
	// (the database to use) follow.
	var id equipe.ID
	switch sub {
	case "create", "list":
	case "rotate-secret", "delete", "update":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return errors.New(sub + " takes the client's ID first")
		}
		var err error
		if id, err = equipe.ParseID(args[0]); err != nil {
			return errors.New("not a client ID: " + args[0])
		}
		args = args[1:]
	default:
		fmt.Fprint(stderr, clientsUsage)
		return fmt.Errorf("unknown clients command %q", sub)
	}
	var own, rest []string
	if sub == "create" || sub == "update" {
		own, rest = splitFlags(fs, args)
	} else {
		rest = args
	}
	if err := fs.Parse(own); err != nil {
		return err
	}
	cfg, err := app.ParseConfig("clients", rest, getenv)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, stderr, app.Options{KeepPolicy: true, Beside: true})
	if err != nil {
		return err
	}
	defer a.Close()
	operator := team.Actor{Operator: true}
	switch sub {
	case "create":
		var sc []string
		if *scopes != "" {
			sc = strings.Split(*scopes, ",")
		}
		c, secret, err := a.Team.CreateOIDCClient(ctx, operator, team.OIDCClientInput{Name: *name, RedirectURIs: redirects,
			PostLogoutURIs: postLogout, BackchannelLogoutURI: *backchannel, Public: *public, FirstParty: *firstParty, Scopes: sc})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "client_id: %s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n", secret)
			fmt.Fprintln(stderr, "The secret is shown once: equipe keeps only its hash.")
		}
	case "list":
		cs, err := a.Team.OIDCClients(ctx, operator)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tKIND\tSCOPES\tREDIRECT_URIS")
		for _, c := range cs {
			kind := "confidential"
			if c.Public {
				kind = "public"
			}
			if c.FirstParty {
				kind += ",first-party"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, strings.Join(c.Scopes, " "), strings.Join(c.RedirectURIs, " "))
		}
		return tw.Flush()
	case "update":
		// Only the flags given change; --redirect-uri and --post-logout-uri
		// replace the lists.
		var ch team.OIDCClientChange
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				ch.Name = name
			case "redirect-uri":
				ch.RedirectURIs = (*[]string)(&redirects)
			case "post-logout-uri":
				ch.PostLogoutURIs = (*[]string)(&postLogout)
			case "backchannel-logout-uri":
				ch.BackchannelLogoutURI = backchannel
			case "first-party":
				ch.FirstParty = firstParty
			case "scopes":
				sc := strings.Split(*scopes, ",")
				ch.Scopes = &sc
			}
		})
		c, err := a.Team.UpdateOIDCClient(ctx, operator, id, ch)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "client %s updated: %s, scopes %s\n", c.ID, c.Name, strings.Join(c.Scopes, " "))
	case "rotate-secret":
		_, secret, err := a.Team.RotateOIDCClientSecret(ctx, operator, id)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "client_secret: %s\n", secret)
		fmt.Fprintln(stderr, "The previous secret no longer works; this one is shown once.")
	case "delete":
		if err := a.Team.DeleteOIDCClient(ctx, operator, id); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "client %s deleted\n", id)
	}
	return nil
}
