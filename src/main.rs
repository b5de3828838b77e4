// mimalloc instead of glibc's malloc, measured (docs/benchmarks.md): an
// offline plan of 5,000 rows makes a few hundred thousand small
// allocations, and glibc spent ~20 % of the run in malloc/free/consolidate
// and fresh-page faults; 58 -> 44 ms for the whole process, same output.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(aws_auth_migrate::run());
}
