// Compiles the non-template parts of Beast and Asio once for the whole
// binary (BOOST_*_SEPARATE_COMPILATION is defined on every server TU).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
