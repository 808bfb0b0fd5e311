package store

import (
	"context"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
)

func TestSQLite_DurabilitySettingsHoldOnEveryConnection(t *testing.T) {
	db, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// Several readers at once, so that more than one connection is checked.
	for _, p := range []querier{db.w, db.r, db.r, db.r} {
		var mode string
		var sync, fk int
		p.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		p.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		p.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d", mode, sync, fk)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Foreign keys are enforced: a member of no account is refused.
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.CreateMember(ctx, &equipe.Member{AccountID: equipe.NewID(), UserID: equipe.NewID(), Role: "admin",
			Status: equipe.MemberActive, CreatedAt: time.Now()})
	})
	if err == nil {
		t.Fatal("a member of a missing account was written")
	}
	// The readers cannot write.
	if _, err := db.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Fatal("a reader connection wrote")
	}
}

func TestFilesystemKind_RefusesNetworkFilesystems(t *testing.T) {
	for magic, network := range map[uint32]bool{0x6969: true, 0xFF534D42: true, 0xFE534D42: true, 0x517B: true,
		0xEF53: false, 0x58465342: false, 0x01021994: false} {
		if _, got := filesystemKind(magic); got != network {
			t.Errorf("magic %#x: network %v, want %v", magic, got, network)
		}
	}
}
