// Command equipe runs the equipe service and its administration tasks.
//
//	equipe serve          run the web UI, the API and the mail worker
//	equipe migrate        bring the database schema up to date, then exit
//	equipe create-admin   create an instance administrator
//	equipe version        print the version
//
// Configuration comes from flags and EQUIPE_* environment variables; see
// the README. A bad value stops the command with one line naming the setting.
package main
