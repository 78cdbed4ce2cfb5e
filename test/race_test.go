//go:build race

package test

func init() { buildFlags = append(buildFlags, "-race") }
