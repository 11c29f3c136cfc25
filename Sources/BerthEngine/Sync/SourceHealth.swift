public import BerthCore
public import Foundation
import Logging

/// Faults of the source that watch survives, reported (issue 18, finding 11): git that
/// cannot be fetched, and a history rewritten under the last applied commit.
extension SyncPipeline {
    /// A fetch failed: counted (`berth_source_fetch_failures_total`, `berth_source_up` 0).
    /// The first failure of an outage is journaled once, here when the sync goes on from
    /// the last good desired state (a record of its own, not counted as a sync); with
    /// nothing to go on from, the sync fails and `journalFailure` journals it instead.
    func noteSourceDown(_ error: any Error, run: SyncRun) async {
        metrics.sourceFetchFailures += 1
        metrics.sourceUp = false
        guard fetchFailures == 1 else { return }
        sourceDownSince = run.started
        guard lastGood != nil else { return }
        await journal(sourceDownRecord(run: run), seconds: nil)
    }

    /// The record of an outage's first failed fetch: `result: error`, the sync's trigger,
    /// the commit that keeps running, and `git: <why>`.
    func sourceDownRecord(run: SyncRun) -> JournalRecord {
        JournalRecord(
            started: Timestamp.string(run.started), ended: Timestamp.string(now()), commit: lastGood?.commit ?? newestCommit,
            trigger: run.trigger, result: .error, errors: run.errors, actor: actor)
    }

    /// A fetch succeeded: `berth_source_up` 1; after an outage, logged and journaled once.
    func noteSourceUp(commit: String?, run: SyncRun) async {
        metrics.sourceUp = true
        metrics.sourceLastFetch = now()
        guard fetchFailures > 0 else { return }
        let since = sourceDownSince.map(Timestamp.string) ?? "?"
        let line = "git: reachable again after \(fetchFailures) failed fetch\(fetchFailures == 1 ? "" : "es") since \(since)"
        logger.info("git is reachable again", metadata: ["source.failures": "\(fetchFailures)", "source.down_since": "\(since)"])
        sourceDownSince = nil
        await journal(
            JournalRecord(
                started: Timestamp.string(run.started), ended: Timestamp.string(now()), commit: commit,
                trigger: run.trigger, result: .succeeded, errors: [line], actor: actor),
            seconds: nil)
    }

    /// A new commit whose history does not contain the last applied one (a force-push, a
    /// reset of the branch) is applied all the same — git is the source of truth — but
    /// said: a warning naming both commits, an event, `berth_source_history_rewrites_total`,
    /// and a line in the journal record of the sync that applies it. The check reads the
    /// repository the fetch brought (libgit2, no second fetch); a source that cannot say
    /// is taken at its word.
    func checkHistory(of commit: String?, run: inout SyncRun) async {
        guard let commit, let applied = lastAppliedCommit, applied != commit else { return }
        let contained: Bool?
        do {
            contained = try await provider.isAncestor(applied, of: commit)
        } catch {
            logger.warning(
                "could not tell whether the new commit's history contains the last applied commit",
                metadata: ["git.commit": "\(commit)", "git.applied_commit": "\(applied)", "error": "\(error)"])
            return
        }
        guard contained == false else { return }
        metrics.historyRewrites += 1
        let line = SyncEvent.historyRewritten(applied: applied, new: commit)
        logger.warning(
            "history rewritten: the last applied commit is not an ancestor of the new commit (force-push?); applying the new commit, as git says",
            metadata: ["git.commit": "\(commit)", "git.applied_commit": "\(applied)"])
        events.publish(.historyRewritten(applied: applied, new: commit), at: now())
        run.errors.append(line)
    }
}
