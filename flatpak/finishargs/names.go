package finishargs

import "github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"

func keyfileGroupName(s string) error { return keyfile.ValidGroupName(s) }
func keyfileKeyName(s string) error   { return keyfile.ValidKeyName(s) }
