// Column-wise operations on the model's tables (struct-of-vectors with ForEachColumn), shared
// by the parts of the TraceBuilder. Internal to src/model.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

namespace teye::columns {

// Reorders every column of `table` so that new row i is old row perm[i].
template <typename Table>
void Permute(Table& table, const std::vector<uint32_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size() && identity; ++i)
    identity = perm[i] == i;
  if (identity) return;  // already in order: most tables of most traces
  table.ForEachColumn([&](auto& column) {
    if (column.empty()) return;
    std::remove_reference_t<decltype(column)> sorted;
    sorted.reserve(column.size());
    for (uint32_t i : perm)
      sorted.push_back(column[i]);
    column.swap(sorted);
  });
}

template <typename Table>
void AppendTable(Table& dst, Table& src) {
  // Column lists are identical, so walk them pairwise through two passes of ForEachColumn.
  std::vector<void*> src_columns;
  src.ForEachColumn([&](auto& column) { src_columns.push_back(&column); });
  size_t i = 0;
  dst.ForEachColumn([&](auto& column) {
    auto* from = static_cast<std::remove_reference_t<decltype(column)>*>(src_columns[i++]);
    column.insert(column.end(), from->begin(), from->end());
  });
}

template <typename Vec, typename F>
void RemapFrom(Vec& column, size_t from, F&& f) {
  for (size_t i = from; i < column.size(); ++i)
    column[i] = f(column[i]);
}

inline std::vector<uint32_t> Identity(size_t n) {
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  return perm;
}

template <typename Table>
void SortByTs(Table& table) {
  if (std::is_sorted(table.ts_ns.begin(), table.ts_ns.end())) return;
  auto perm = Identity(table.size());
  std::stable_sort(perm.begin(), perm.end(),
                   [&](uint32_t a, uint32_t b) { return table.ts_ns[a] < table.ts_ns[b]; });
  Permute(table, perm);
}

}  // namespace teye::columns
