//go:build !sfu

package main

// Without -tags sfu, the SFU roles are missing (see sfu_roles.go); -sfu
// says how to build them before anything starts.

func runSFURobot(options) error   { return errNoSFU }
func runSFUDesktop(options) error { return errNoSFU }
func runViewers(options) error    { return errNoSFU }
