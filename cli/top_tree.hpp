// top's tree view: the table's rows under their parents.
#pragma once

#include <vector>

#include "top_model.hpp"

namespace procmon::cli::top {

// `sorted` reordered so each process comes under its parent, siblings in
// their sorted order, with depth set; a process whose parent is not among
// the rows (filtered out, or pid 0's children) is a root.
std::vector<Row> tree_order(const std::vector<Row> &sorted);

}  // namespace procmon::cli::top
