fn main() {
    std::process::exit(aws_auth_migrate::run());
}
