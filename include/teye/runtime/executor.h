// One executor for all of teye's parallel work (STYLE.md 16; DuckDB's TaskScheduler is the
// model). Components never start threads of their own: they spawn tasks into a TaskGroup on the
// Executor passed down to them through their options, and wait for the group. The Executor's
// thread count caps everything at once: a job of many ranks, each read by parallel parsers and
// diagnosed by parallel rules, never has more than `threads()` threads doing teye's work.
//
// The executor owns threads() - 1 worker threads; the thread that waits for a group runs that
// group's queued tasks itself instead of sleeping, so it is the last of the threads() (and a
// nested wait, a task waiting for tasks of its own, cannot deadlock: the waiter can always run
// what it waits for). Tasks run in the order they were spawned, as far as threads allow.
//
// Work whose parts must run at the same time (the simulated ranks of `teye synth`, which wait
// for one another at every collective) uses RunTogether: each part gets a thread, but only
// threads() of them run at once; a part that waits for the others does so inside Blocked(),
// which lends its turn to another part.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace teye {

class TaskGroup;

class Executor {
 public:
  // `threads`: the most threads that do teye's work at once, the caller's included; 0 means
  // one per core.
  explicit Executor(unsigned threads = 0);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  unsigned threads() const { return threads_; }

  // Runs part(0) ... part(n - 1) on threads of their own (started for the call and joined before
  // it returns), at most threads() of them running at any moment: a part runs when it holds a
  // turn, and gives it up only inside Blocked(). The calling thread gives up its own turn while
  // it waits. Use only for parts that must wait for one another and spawn no tasks;
  // independent work is a TaskGroup's.
  void RunTogether(size_t n, const std::function<void(size_t)>& part);

  // Runs `wait` (which blocks until another part of a RunTogether has done something) without a
  // turn, then takes one again. Outside RunTogether it just runs `wait`.
  static void Blocked(const std::function<void()>& wait);

 private:
  friend class TaskGroup;
  struct Task {
    TaskGroup* group;
    std::function<void()> run;
  };

  void Work();
  // Runs `task` (with mu_ released) and marks it done in its group.
  void RunTask(Task task, std::unique_lock<std::mutex>& lock);

  const unsigned threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or the executor stops
  std::condition_variable done_cv_;  // a task finished, or a task of a waited-for group queued
  std::deque<Task> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Tasks spawned together and waited for together. A null executor runs each task inline, in
// Spawn, which is also what a one-thread Executor amounts to.
class TaskGroup {
 public:
  explicit TaskGroup(Executor* executor) : executor_(executor) {}
  ~TaskGroup();  // waits for the tasks still pending
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Spawn(std::function<void()> task);
  // Returns when every task spawned so far has finished, running queued ones on this thread.
  // Rethrows the first exception a task threw.
  void Wait();
  // Returns when `done()` is true, running this group's queued tasks on this thread meanwhile.
  // `done` is evaluated with the executor's lock held, after each task of any group finishes:
  // it may read what tasks of this group wrote before they finished, and must be quick.
  void WaitUntil(const std::function<bool()>& done);
  // Wakes the threads in WaitUntil to test their condition again: for conditions that change
  // while a task runs (how far a stream has got), not only when one finishes.
  void Notify();

  size_t pending() const { return pending_; }  // spawned and not finished (under the lock)

 private:
  friend class Executor;
  Executor* executor_;
  size_t pending_ = 0;
  std::exception_ptr error_;
};

}  // namespace teye
