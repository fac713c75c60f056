import Testing

@testable import Monitoring

@Suite("YearSet")
struct YearSetTests {
    @Test("holds exactly the years given, across all four words of bits")
    func membership() {
        let years = [1970, 2000, 2033, 2034, 2097, 2098, 2161, 2162, 2199]
        let set = YearSet(years)
        for year in 1960...2210 {
            #expect(set.contains(year) == years.contains(year), "year \(year)")
        }
    }

    @Test("years outside 1970...2199 are neither stored nor found")
    func outOfRange() {
        let set = YearSet([1969, 2200, -5, 3000])
        #expect(set == YearSet([]))
        #expect(!set.contains(1969) && !set.contains(2200))
    }

    @Test("equal sets of years are equal values, whatever the order given")
    func equality() {
        #expect(YearSet([2030, 2025, 2030]) == YearSet([2025, 2030]))
        #expect(YearSet([2025]) != YearSet([2026]))
        #expect(YearSet(1970...2199).contains(2199))
    }
}
