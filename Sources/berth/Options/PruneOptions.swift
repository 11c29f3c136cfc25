import ArgumentParser

/// `--prune` (the default) / `--no-prune`: whether services no longer in git are deleted.
/// One option and one default for `plan`, `apply` and `watch`, so that a plan — a CI's
/// `plan --detailed-exitcode` — shows what apply and watch will do; the plan's first line
/// says `prune: on` or `prune: off`. A prune never runs while the desired state has errors,
/// and one that deletes more than half of the running services needs --allow-mass-delete.
struct PruneOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Delete services that are no longer in git, as plan, apply and watch all do by default; --no-prune keeps them.")
    var prune = true
}
