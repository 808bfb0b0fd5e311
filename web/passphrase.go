package web

import (
	"crypto/rand"
	_ "embed"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
)

//go:embed passphrase.txt
var passphraseList string

// passphraseWords are the words of suggested passwords.
var passphraseWords = func() []string {
	var out []string
	for _, line := range strings.Split(passphraseList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}()

// passphraseLength is the number of words of a suggested password: six of
// some 1,200 words give about 61 bits, beyond any online guessing and slow
// offline guessing against argon2id.
const passphraseLength = 6

// suggestPassword returns a passphrase of random words drawn from src (a
// cryptographic source), one that the password rules accept for someone with
// the given email, names and account name.
func suggestPassword(src io.Reader, context ...string) (string, error) {
	n := big.NewInt(int64(len(passphraseWords)))
	for range 10 {
		words := make([]string, passphraseLength)
		for i := range words {
			k, err := rand.Int(src, n)
			if err != nil {
				return "", fmt.Errorf("web: suggest a password: %w", err)
			}
			words[i] = passphraseWords[k.Int64()]
		}
		pw := strings.Join(words, "-")
		var v equipe.Invalid
		identity.CheckNewPassword(&v, pw, context...)
		if v.Err() == nil {
			return pw, nil
		}
	}
	return "", fmt.Errorf("web: no acceptable password suggested")
}
