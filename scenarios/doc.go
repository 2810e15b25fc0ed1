// Package scenarios holds the scenario language (wbsim-scenario v1): its
// data structure and Go builder API, parser, printer and validation, the
// built-in scenario files, and the planted-race programs the tour runs.
// docs/scenario-language.md is the reference for the text form.
package scenarios
