#include "top_tree.hpp"

#include <unordered_map>

namespace procmon::cli::top {

std::vector<Row> tree_order(const std::vector<Row> &rows) {
    std::unordered_map<int32_t, std::size_t> index;
    for (std::size_t i = 0; i < rows.size(); ++i) index.emplace(rows[i].p->pid, i);
    std::vector<std::vector<std::size_t>> children(rows.size());
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        auto parent = index.find(rows[i].p->ppid);
        if (parent != index.end() && parent->second != i) children[parent->second].push_back(i);
        else roots.push_back(i);
    }
    std::vector<Row> tree;
    tree.reserve(rows.size());
    std::vector<bool> placed(rows.size());
    // depth first, iteratively: a deep chain of processes cannot overflow the stack
    std::vector<std::pair<std::size_t, int>> stack;
    // then whatever no root reached: a parent loop that pid reuse made
    for (std::size_t i = 0; i < rows.size(); ++i) roots.push_back(i);
    for (std::size_t root : roots) {
        if (placed[root]) continue;
        stack.emplace_back(root, 0);
        while (!stack.empty()) {
            auto [i, depth] = stack.back();
            stack.pop_back();
            if (placed[i]) continue;
            placed[i] = true;
            Row r = rows[i];
            r.depth = depth;
            tree.push_back(r);
            for (auto it = children[i].rbegin(); it != children[i].rend(); ++it) stack.emplace_back(*it, depth + 1);
        }
    }
    return tree;
}

}  // namespace procmon::cli::top
