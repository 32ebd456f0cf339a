#include "teye/runtime/executor.h"

#include <algorithm>

namespace teye {
namespace {

// The turns of one RunTogether call: how many of its parts may run now.
struct Turns {
  std::mutex mu;
  std::condition_variable cv;
  unsigned free = 0;

  void Take() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return free > 0; });
    --free;
  }
  void Give() {
    {
      std::lock_guard lock(mu);
      ++free;
    }
    cv.notify_one();
  }
};

// The RunTogether whose part this thread runs, if any.
thread_local Turns* current_turns = nullptr;

}  // namespace

Executor::Executor(unsigned threads)
    : threads_(std::max(1u, threads ? threads : std::thread::hardware_concurrency())) {
  for (unsigned i = 1; i < threads_; ++i)
    workers_.emplace_back([this] { Work(); });
}

Executor::~Executor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& w : workers_)
    w.join();
}

void Executor::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    Task task = std::move(queue_.front());
    queue_.pop_front();
    RunTask(std::move(task), lock);
  }
}

void Executor::RunTask(Task task, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  std::exception_ptr error;
  try {
    task.run();
  } catch (...) {
    error = std::current_exception();
  }
  task.run = nullptr;  // whatever the task captured is released outside the lock
  lock.lock();
  if (error && !task.group->error_) task.group->error_ = error;
  --task.group->pending_;
  done_cv_.notify_all();
}

void Executor::RunTogether(size_t n, const std::function<void(size_t)>& part) {
  Turns turns;
  turns.free = threads_;
  std::vector<std::thread> parts;
  parts.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    parts.emplace_back([&turns, &part, i] {
      current_turns = &turns;
      turns.Take();
      part(i);
      turns.Give();
    });
  }
  for (std::thread& t : parts)
    t.join();
}

void Executor::Blocked(const std::function<void()>& wait) {
  Turns* turns = current_turns;
  if (turns) turns->Give();
  wait();
  if (turns) turns->Take();
}

TaskGroup::~TaskGroup() {
  if (!executor_) return;
  std::unique_lock lock(executor_->mu_);
  // A task may still refer to the group: wait for all of them, but do not rethrow here.
  while (pending_ > 0) {
    auto it = std::find_if(executor_->queue_.begin(), executor_->queue_.end(),
                           [&](const Executor::Task& t) { return t.group == this; });
    if (it != executor_->queue_.end()) {
      Executor::Task task = std::move(*it);
      executor_->queue_.erase(it);
      executor_->RunTask(std::move(task), lock);
    } else {
      executor_->done_cv_.wait(lock);
    }
  }
}

void TaskGroup::Spawn(std::function<void()> task) {
  if (!executor_ || executor_->threads_ == 1) {
    // Inline: the same order of work a one-thread executor would give, without the queue.
    try {
      task();
    } catch (...) {
      if (!error_) error_ = std::current_exception();
    }
    return;
  }
  {
    std::lock_guard lock(executor_->mu_);
    ++pending_;
    executor_->queue_.push_back({this, std::move(task)});
  }
  executor_->work_cv_.notify_one();
}

void TaskGroup::WaitUntil(const std::function<bool()>& done) {
  if (!executor_ || executor_->threads_ == 1) return;  // tasks ran in Spawn
  std::unique_lock lock(executor_->mu_);
  while (!done()) {
    // Run one of this group's queued tasks, the oldest first: it is most likely the one waited
    // for, and no worker has taken it yet.
    auto it = std::find_if(executor_->queue_.begin(), executor_->queue_.end(),
                           [&](const Executor::Task& t) { return t.group == this; });
    if (it != executor_->queue_.end()) {
      Executor::Task task = std::move(*it);
      executor_->queue_.erase(it);
      executor_->RunTask(std::move(task), lock);
      continue;
    }
    executor_->done_cv_.wait(lock);
  }
}

void TaskGroup::Notify() {
  if (!executor_) return;
  std::lock_guard lock(executor_->mu_);
  executor_->done_cv_.notify_all();
}

void TaskGroup::Wait() {
  WaitUntil([this] { return pending_ == 0; });
  std::exception_ptr error;
  if (executor_) {
    std::lock_guard lock(executor_->mu_);
    std::swap(error, error_);
  } else {
    std::swap(error, error_);
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace teye
